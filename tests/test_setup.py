"""Starting up: every setting error is one line naming the variable (exit 2), and one definition of a real line."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli.main import main
from ivr.line import LOCAL_TOKEN, line_for
from ivr.settings import Settings, SettingsError, load_settings
from ivr.texts.sending import ConsoleSender
from tests.conftest import ROOT

REAL = {
    "twilio_account_sid": "AC" + "a" * 32, "twilio_auth_token": "token", "twilio_from_number": "+441234567890",
    "secret_key": "a-secret",
}  # fmt: skip


def invoke(args: list[str], **env: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, args, env=env)
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("env", "args", "named"),
    [
        ({"IVR_REHEARSAL_RATE": "abc"}, ["rehearse", "--mute", "--keys", "t"], "IVR_REHEARSAL_RATE"),
        ({"DATABASE_URL": "nonsense"}, ["homes", "list"], "DATABASE_URL"),
        ({"DATABASE_URL": "mysql://ivr:hunter2@db.example.org/ivr"}, ["db", "upgrade"], "DATABASE_URL"),
        ({"PORT": "99999"}, ["serve"], "PORT"),
        ({"IVR_TWILIO_VOICE": "Amy"}, ["worker", "--once"], "IVR_TWILIO_VOICE"),
        ({"PUBLIC_BASE_URL": "ivr.example.org"}, ["sms", "preview"], "PUBLIC_BASE_URL"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(env: dict[str, str], args: list[str], named: str) -> None:
    code, output = invoke(args, **env)
    assert code == 2, output
    assert output.startswith(f"Error: bad setting: {named}: ") and output.count("\n") == 1, output
    assert "Traceback" not in output and "hunter2" not in output  # nor a password echoed back


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["call", "notaurl"], "'notaurl' is not a server's address"),
        (["serve", "--port", "99999"], "99999 is not in the range 1<=x<=65535"),
        (["audio", "export", "/proc/no/such/folder"], "cannot write the audio to /proc/no/such/folder"),
    ],
)
def test_bad_arguments_are_a_clean_error(args: list[str], said: str) -> None:
    code, output = invoke(args)
    assert code == 2 and said in output, output
    assert "Traceback" not in output


def test_with_no_twilio_credential_the_line_is_local_with_a_kept_secret(tmp_path: Path) -> None:
    line = line_for(Settings(data_dir=tmp_path))
    assert not line.real and line.auth_token == LOCAL_TOKEN
    kept = tmp_path / "secret-key"
    assert kept.read_text().strip() == line.secret_key and len(line.secret_key) >= 40
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600  # readable by its owner only
    assert line_for(Settings(data_dir=tmp_path)).secret_key == line.secret_key  # every process, every restart
    assert line_for(Settings(data_dir=tmp_path / "other")).secret_key != line.secret_key


def test_a_real_line_has_every_credential_and_the_secret(tmp_path: Path) -> None:
    line = line_for(Settings(data_dir=tmp_path, **REAL))
    assert line.real and line.auth_token == "token" and line.secret_key == "a-secret"
    assert not (tmp_path / "secret-key").exists()  # a real line's secret is given, never made


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("twilio_account_sid", "TWILIO_ACCOUNT_SID"),
        ("twilio_auth_token", "TWILIO_AUTH_TOKEN"),
        ("twilio_from_number", r"a sender \(TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID\)"),
        ("secret_key", "IVR_SECRET_KEY"),
    ],
)
def test_a_partial_set_of_credentials_stops_with_what_is_missing(tmp_path: Path, missing: str, named: str) -> None:
    partial = {key: value for key, value in REAL.items() if key != missing}
    with pytest.raises(SettingsError, match=f"a real line needs {named} too"):
        line_for(Settings(data_dir=tmp_path, **partial))


def test_the_worker_will_not_pretend_to_send(tmp_path: Path) -> None:
    """Credentials but no sender: once, this printed the texts, marked them sent and sent nothing."""
    code, output = invoke(["worker", "--once"], TWILIO_ACCOUNT_SID="AC" + "b" * 32, TWILIO_AUTH_TOKEN="token",
                          IVR_SECRET_KEY="s", DATABASE_URL=f"sqlite:///{tmp_path / 'ivr.sqlite3'}")  # fmt: skip
    assert code == 2, output
    assert output == (
        "Error: a real line needs a sender (TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID) too "
        "(TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN set); set them all to send texts, or none to print texts here instead\n"
    )


def test_settings_errors_hide_secrets() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(database_url="postgresql://ivr:hunter2@db", twilio_auth_token=["not", "a", "string"])
    assert "hunter2" not in str(error.value) and "not" not in str(error.value).split("TWILIO_AUTH_TOKEN")[1]


def test_the_console_sender_masks_codes_and_mailboxes_as_the_logs_do() -> None:
    printed: list[str] = []
    ConsoleSender(printed.append).send("+447400123456", "Code VL15A, mailbox care.vl15a@nhs.net, ring 0333 200 1133",
                                       None)  # fmt: skip
    assert "VL15A" not in printed[0] and "vl15a" not in printed[0] and "7400123456" not in printed[0]
    assert "0333 200 1133" in printed[0]


def test_the_operator_commands_run_where_termios_does_not_exist(tmp_path: Path) -> None:
    """As on Windows: the POSIX terminal modules cannot be imported, and `ivr` still works."""
    script = (
        "import sys\n"
        "for name in ('termios', 'tty', 'fcntl', 'pty', 'resource', 'pwd', 'grp'):\n"
        "    sys.modules[name] = None\n"
        "from click.testing import CliRunner\n"
        "from ivr.cli.main import main\n"
        "for args in (['check'], ['homes', 'list'], ['tree']):\n"
        "    result = CliRunner().invoke(main, args)\n"
        "    assert result.exit_code == 0, (args, result.output, result.exception)\n"
        "print('ok')\n"
    )
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'ivr.sqlite3'}"}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)  # fmt: skip
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
