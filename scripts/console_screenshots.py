"""A screenshot of every page of the operator console, with example data, to look at it without setting it up.

Seeds a temporary SQLite database with the same example week the browser tests use (homes, open and
closed escalations, texts that failed), runs the app on a free port of 127.0.0.1 and photographs each
page in Debian's chromium through Playwright. Nothing outside the temporary folder and DIR is touched.

    .venv/bin/python scripts/console_screenshots.py [DIR]     (default: var/console-screenshots)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the example data is the tests' own (tests/console_support.py)

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from ivr.homes import escalations  # noqa: E402
from ivr.store.database import Store  # noqa: E402
from ivr.texts import attention  # noqa: E402
from tests.console_support import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    USER,
    add_user,
    console_app,
    console_settings,
    live_server,
    seed,
)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=ROOT / "var" / "console-screenshots")
    parser.add_argument("--width", type=int, default=1280)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install chromium (./scripts/test installs it when it can)")
    args.directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ivr-console-") as scratch:
        database = Path(scratch) / "ivr.sqlite3"
        store = Store(f"sqlite:///{database}")
        store.upgrade()
        seed(store)
        add_user(store)
        app = console_app(console_settings(database, data_dir=Path(scratch)), store)
        with live_server(app) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": args.width, "height": 800})
            shots = photograph(page, base, store, args.directory)
            browser.close()
        store.engine.dispose()
    for shot in shots:
        print(shot)


def photograph(page: Page, base: str, store: Store, directory: Path) -> list[Path]:
    shots: list[Path] = []

    def shot(name: str) -> None:
        path = directory / f"{len(shots) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        shots.append(path)

    page.goto(f"{base}/console/")
    shot("sign-in")
    page.get_by_label("User name").fill(USER)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    shot("sign-in-refused")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    shot("overview")
    page.goto(f"{base}/console/escalations")
    shot("escalations-open")
    first = escalations.listing(store, only_open=True)[0]
    page.locator(f"#escalation-{first.id}").get_by_role("button", name="Show").click()
    shot("escalations-one-shown")
    page.goto(f"{base}/console/escalations?show=closed")
    shot("escalations-closed")
    page.goto(f"{base}/console/escalations/{first.id}")
    page.get_by_label("Note: what was done, with whom, and what the helpdesk said").fill(
        "Rang the helpdesk (ticket INC0012345): the password reset is booked for this afternoon."
    )
    shot("escalation-closing")
    page.goto(f"{base}/console/texts")
    shot("texts")
    failed = next(text for text in attention.problems(store) if text.state == "failed")
    page.get_by_role("button", name=f"Resend text {failed.id}", exact=True).click()
    shot("texts-resent")
    if page.get_by_role("link", name="Usage", exact=True).count():
        page.get_by_role("link", name="Usage", exact=True).click()
        shot("usage")
    page.goto(f"{base}/console/audit")
    shot("audit-log")
    return shots


if __name__ == "__main__":
    main()
