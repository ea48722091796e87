import pytest
from pydantic import ValidationError

from ivr.phone import mask, national_digits, uk_mobile
from ivr.settings import Settings


@pytest.mark.parametrize("text", ["07400123456", "07400 123456", "+44 7400 123456", "447400123456"])
def test_uk_mobiles_are_accepted(text: str) -> None:
    assert uk_mobile(text) == "+447400123456"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("01522123456", "a landline"),
        ("03332001133", "a non-geographic 03 number"),
        ("07012345678", "070 personal numbering"),
        ("07623123456", "a 076 pager"),
        ("07624123456", "an Isle of Man mobile"),
        ("07781123456", "a Guernsey mobile"),
        ("09011234567", "premium rate"),
        ("0740012345", "too short"),
        ("+33612345678", "a French mobile"),
        ("hello", "not a number"),
    ],
)
def test_other_numbers_are_refused(text: str, why: str) -> None:
    assert uk_mobile(text) is None, why


def test_crown_dependency_mobiles_are_a_setting() -> None:
    assert uk_mobile("07624123456", allow_crown_dependencies=True) == "+447624123456"


def test_numbers_are_masked_for_logs() -> None:
    assert mask("+447400123456") == "*********456"
    assert mask(None) == "(none)"


def test_national_digits() -> None:
    assert national_digits("+447400123456") == "07400123456"


NUMBERS = ["07400123456", "07400 123456", "+44 7400 123456", "447400123456", "01522123456", "03332001133",
           "07012345678", "07623123456", "07624123456", "07781123456", "07797123456", "09011234567", "0740012345",
           "+33612345678", "hello", "+44"]  # fmt: skip


@pytest.mark.parametrize("text", NUMBERS)
def test_the_escalation_contact_setting_accepts_what_uk_mobile_accepts(text: str) -> None:
    # Settings import nothing of ivr, so they check the contact with phonenumbers themselves: the same rule.
    expected = uk_mobile(text, allow_crown_dependencies=True)
    if expected is None:
        with pytest.raises(ValidationError, match="must be a UK mobile number, such as 07400 123456"):
            Settings(escalation_contact=text)
    else:
        assert Settings(escalation_contact=text).escalation_contact == expected
