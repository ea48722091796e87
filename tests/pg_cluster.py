"""A throwaway PostgreSQL cluster of the test's (or the fault benchmark's) own, to stop and hang at will.

Made with Debian's binaries (/usr/lib/postgresql/<version>/bin, or PG_BIN) in a scratch folder, on a
free loopback port, trusted with no password. PostgreSQL refuses to run as root, so as root every
command runs as the postgres user, and the folder is in the system's temporary folder (pytest's own
are root's alone), owned by postgres. `hang` stops the postmaster and every backend with SIGSTOP, as a
frozen host would; `resume` sends SIGCONT. Whatever happens, `destroy` resumes and stops the cluster.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

DEBIAN = Path("/usr/lib/postgresql")


def binaries() -> Path | None:
    """The folder of initdb, pg_ctl and postgres, or None when PostgreSQL is not installed."""
    chosen = os.environ.get("PG_BIN")
    candidates = [Path(chosen)] if chosen else sorted(DEBIAN.glob("*/bin"), key=lambda p: int(p.parent.name))[::-1]
    for folder in candidates:
        if all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


def missing() -> str | None:
    """Why no cluster can be made here, or None when one can."""
    if binaries() is None:
        return f"PostgreSQL's binaries are not installed (looked in {DEBIAN}/*/bin and PG_BIN)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, and there is no postgres user to run PostgreSQL as"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    def __init__(self) -> None:
        found = binaries()
        if found is None:
            raise RuntimeError(missing() or "no PostgreSQL")
        self.bin = found
        self.user = "postgres" if os.geteuid() == 0 else None
        self.root = Path(tempfile.mkdtemp(prefix="ivr-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        if self.user is not None:
            account = pwd.getpwnam(self.user)
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "ivr", "--auth=trust", "-E", "UTF8", "--no-sync")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(f"listen_addresses = '127.0.0.1'\nport = {self.port}\nunix_socket_directories = '{self.root}'\n"
                       "fsync = off\nshared_buffers = 16MB\nmax_connections = 60\n")  # fmt: skip
        self.start()

    @property
    def url(self) -> str:
        return f"postgresql://ivr:ivr@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.bin / program), *args], user=self.user, capture_output=True, text=True,
                              check=check, timeout=60, cwd=self.root)  # fmt: skip

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30", "start")

    def stop(self) -> None:
        """As a crash would: no checkpoint, every connection cut."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def postmaster(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None

    def processes(self) -> list[int]:
        """The postmaster and every process it started (the backends, the checkpointer, the writers)."""
        parent = self.postmaster()
        if parent is None:
            return []
        children = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    # The fields after the command's closing parenthesis: state, then the parent's id.
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except (FileNotFoundError, ProcessLookupError, IndexError):
                    continue
                if int(fields[1]) == parent:
                    children.append(int(entry.name))
        return [parent, *children]

    def hang(self) -> None:
        parent = self.postmaster()
        if parent is None:
            raise RuntimeError("the cluster is not running")
        os.kill(parent, signal.SIGSTOP)  # first, so it forks no backend the list below would miss
        for pid in self.processes()[1:]:
            os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        for pid in reversed(self.processes()):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    @contextmanager
    def hung(self, at_most: float = 120.0) -> Iterator[None]:
        """Hung until the block ends, or `at_most` seconds: code under test that waits on the hung server
        then fails its timing checks instead of waiting for ever."""
        self.hang()
        watchdog = threading.Timer(at_most, self.resume)
        watchdog.start()
        try:
            yield
        finally:
            watchdog.cancel()
            self.resume()

    @contextmanager
    def stopped(self) -> Iterator[None]:
        self.stop()
        try:
            yield
        finally:
            self.start()

    def destroy(self) -> None:
        try:
            self.resume()
            if self.postmaster() is not None:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def cluster() -> Iterator[Cluster]:
    made = Cluster()
    try:
        yield made
    finally:
        made.destroy()


def wait_until(check: Callable[[], object], seconds: float, step: float = 0.2) -> float:
    """Poll `check()` until it is true; the seconds it took (raises TimeoutError past `seconds`)."""
    began = time.monotonic()
    while True:
        if check():
            return time.monotonic() - began
        if time.monotonic() - began > seconds:
            raise TimeoutError(f"not so within {seconds:g} s")
        time.sleep(step)
