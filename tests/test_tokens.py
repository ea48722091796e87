"""The call's state sealed in its URLs: deterministic, bound to its call, unreadable, short, one secret."""

from __future__ import annotations

import base64
import json
import re

from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from flask.testing import FlaskClient

from ivr.app import create_app
from ivr.content.model import Content
from ivr.engine.state import CallState
from ivr.phone_line.tokens import FULL_NAMES, SHORT_NAMES, Sealer, derive_key
from ivr.settings import Settings
from tests.databases import open_store
from tests.web_support import REAL_LINE, add_home, simulate

SID = "CA" + "a" * 32
STATE = CallState(node="scenario_moved", step=3, ods="VL15A", mobile="+447400123456",
                  home_mobile="+447400654321", ticket="8123456", turn=7)  # fmt: skip


def test_the_same_state_on_the_same_call_seals_the_same_and_opens_again() -> None:
    sealer = Sealer("a-secret")
    token = sealer.seal(STATE, SID)
    assert sealer.seal(STATE, SID) == token  # a retried request gets the same URL, so the same body
    assert sealer.open(token, SID) == STATE
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)  # safe in a URL path as it is


def test_a_token_opens_only_for_its_own_call_and_key() -> None:
    token = Sealer("a-secret").seal(STATE, SID)
    assert Sealer("a-secret").open(token, "CA" + "b" * 32) is None
    assert Sealer("another-secret").open(token, SID) is None
    for index in range(len(token)):  # one character changed anywhere
        changed = token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]
        assert Sealer("a-secret").open(changed, SID) is None
    assert Sealer("a-secret").open("", SID) is None and Sealer("a-secret").open("!!", SID) is None


def test_a_token_sealed_before_the_secret_changed_still_opens() -> None:
    token = Sealer("old-secret").seal(STATE, SID)
    assert Sealer("new-secret", previous="old-secret").open(token, SID) == STATE
    assert Sealer("new-secret").open(token, SID) is None
    assert Sealer("new-secret", previous="old-secret").seal(STATE, SID) == Sealer("new-secret").seal(STATE, SID)


def test_every_field_travels_under_a_short_name_of_its_own() -> None:
    assert set(SHORT_NAMES) == set(CallState.model_fields)  # a field left out would travel under its full name
    assert len(set(SHORT_NAMES.values())) == len(SHORT_NAMES)
    assert not set(SHORT_NAMES.values()) & set(SHORT_NAMES)  # a short name is never another field's full name
    everything = CallState(node="escalate_callback_check", step=3, attempts=2, slow=True, turn=40, ods="VL15A",
                           mailbox="manager.home@nhs.net", mobile="+447400123456", home_mobile="+447400654321",
                           registered_landline=True, callback="+441522123456", ticket="8123456", reason="leaver",
                           candidates=("VL15A",), scenarios=(1, 3), texted=("checklist",), scenario=3,
                           topic="scenario_3", resume_node="scenario_moved", resume_step=4,
                           history=("main", "shortcut"),
                           last_steps="scenario_moved", keys_told=True, explained=("ods",))  # fmt: skip
    assert Sealer("a-secret").open(Sealer("a-secret").seal(everything, SID), SID) == everything


def test_a_token_sealed_with_full_field_names_still_opens() -> None:
    """Tokens of the release before the short names, in the URLs of calls under way while it is replaced."""
    plain = json.dumps(STATE.model_dump(mode="json", exclude_defaults=True), separators=(",", ":")).encode()
    sealed = AESSIV(derive_key("a-secret")).encrypt(plain, [FULL_NAMES, SID.encode()])
    token = base64.urlsafe_b64encode(FULL_NAMES + sealed).rstrip(b"=").decode()
    assert Sealer("a-secret").open(token, SID) == STATE
    assert len(Sealer("a-secret").seal(STATE, SID)) * 6 < len(token) * 5  # and the new ones a sixth shorter at least


def test_nothing_personal_can_be_read_from_a_token() -> None:
    token = Sealer("a-secret").seal(STATE, SID)
    for secret in ("VL15A", "vl15a", "7400123456", "7400654321", "8123456", "scenario", "moved"):
        assert secret.lower() not in token.lower()


def test_no_url_we_issue_carries_an_ods_code_or_a_run_of_a_mobiles_digits(
    content: Content, database_url: str
) -> None:
    settings = Settings(database_url=database_url, **REAL_LINE)
    with open_store(database_url) as store:
        add_home(store)
        client: FlaskClient = create_app(settings, content=content, store=store).test_client()
        # A known home (its ODS code in the state), a mobile keyed and confirmed, a text sent, a scenario.
        simulator = simulate(client, "5 07400123456# 1 2 3 1 1 1")
    assert any("The text is on its way" in heard.text for heard in simulator.heard)
    urls = [url for body in simulator.bodies for url in re.findall(r'(?:action="|<Redirect[^>]*>)([^"<]+)', body)]
    assert len(urls) > 10
    for url in urls:
        assert len(url) < 600
        assert "VL15A" not in url.upper()
        for start in range(len("7400123456") - 4):  # no five digits of the mobile in a row
            assert "7400123456"[start : start + 5] not in url
