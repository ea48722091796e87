"""The companion as a deployer installs it: a built wheel (not editable) in a new environment, run elsewhere."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import ROOT

POSTGRES = os.environ.get("TEST_DATABASE_URL")


def test_every_package_under_ivr_is_listed_for_the_wheel() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "ivr").rglob("__init__.py")
    } | {"ivr.prompts"}
    assert listed == on_disk


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A new virtual environment holding the wheel; its dependencies are borrowed from this one (no network)."""
    work = tmp_path_factory.mktemp("wheel")
    # From a copy of the sources alone: setuptools' build/ folder in the clone can hold files since removed.
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", "build", "var", "*.egg-info", ".git",
                                                                "__pycache__", ".*_cache"))  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(work),
         str(source)], check=True, capture_output=True,
    )  # fmt: skip
    wheel = next(work.glob("ivr-*.whl"))
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())  # fmt: skip
    # A path in a .pth file is not a site directory, so this environment's editable hook for ivr is not run.
    (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index",
         str(wheel)], check=True, capture_output=True,
    )  # fmt: skip
    yield venv


def run_installed(venv: Path, home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    elsewhere = home / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    clean = {key: value for key, value in os.environ.items()
             if not key.startswith(("IVR_", "TWILIO_", "DATABASE_URL", "XDG_", "PYTHON"))}  # fmt: skip
    clean.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), XDG_CACHE_HOME=str(home / "cache"), **env)
    return subprocess.run([str(venv / "bin" / "ivr"), *args], cwd=elsewhere, env=clean, capture_output=True,
                          text=True, timeout=120)  # fmt: skip


def test_the_installed_package_is_not_the_clone(installed: Path, tmp_path: Path) -> None:
    where = subprocess.run([str(installed / "bin" / "python"), "-c", "import ivr; print(ivr.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert str(installed) in where and str(ROOT) not in where


def test_the_installed_content_checks(installed: Path, tmp_path: Path) -> None:
    result = run_installed(installed, tmp_path, "check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: ")


def test_an_edited_copy_of_the_prompts_is_still_used(installed: Path, tmp_path: Path) -> None:
    result = run_installed(installed, tmp_path, "check", "--prompts", str(tmp_path / "missing"))
    assert result.returncode == 2 and "missing" in result.stderr
    result = run_installed(installed, tmp_path, "check", IVR_PROMPTS_DIR=str(ROOT / "prompts"))
    assert result.returncode == 0, result.stderr


def test_the_installed_database_lives_in_the_platforms_data_folder(installed: Path, tmp_path: Path) -> None:
    result = run_installed(installed, tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "nhsmail-helpdesk-companion" / "ivr.sqlite3").is_file()
    assert not list(installed.rglob("*.sqlite3"))  # never beside site-packages
    result = run_installed(installed, tmp_path, "db", "upgrade", IVR_DATA_DIR=str(tmp_path / "chosen"))
    assert result.returncode == 0 and (tmp_path / "chosen" / "ivr.sqlite3").is_file()


@pytest.mark.postgres
def test_the_installed_package_upgrades_postgresql(installed: Path, tmp_path: Path) -> None:
    if not POSTGRES:
        pytest.skip("PostgreSQL tests skipped: set TEST_DATABASE_URL (.ci/run starts one)")
    engine = create_engine(POSTGRES.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    result = run_installed(installed, tmp_path, "db", "upgrade", DATABASE_URL=POSTGRES)
    assert result.returncode == 0, result.stderr
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()


def test_the_installed_rehearsal_runs(installed: Path, tmp_path: Path) -> None:
    result = run_installed(installed, tmp_path, "rehearse", "--mute", "--keys", "t")
    assert result.returncode == 0, result.stderr
    assert "N H S mail" in result.stdout
