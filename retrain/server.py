"""One Prefect server per Retrain home, started on demand and shared by every command.

Without ``PREFECT_API_URL`` each Prefect process would start a temporary server of its own:
about 7 s of CPU per command, and a start-up wait (20 s by default) that runs out on a busy
machine. Instead the first command that needs Prefect starts ``prefect server start`` on a
free port of 127.0.0.1, with its SQLite under ``<home>/prefect``, and records its address
and pid in ``<home>/prefect/retrain-server.json``; later commands find it there and reuse
it, and their runs show in its UI. The home owns that server, not the command: it keeps
running until ``retrain server stop`` or until nobody used it for a while
(``retrain.server_keeper``). A record whose process is gone, or is no longer a Prefect
server of this home, is stale and replaced. Only the standard library is imported.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from retrain.processes import HOME_TAG, PARENT_TAG, end_orphans, end_process, is_alive, serves_home

HOST = "127.0.0.1"
RECORD_NAME = "retrain-server.json"
TIMEOUT_VARIABLE = "RETRAIN_SERVER_STARTUP_TIMEOUT"
DEFAULT_STARTUP_TIMEOUT = 120.0
IDLE_VARIABLE = "RETRAIN_SERVER_IDLE_MINUTES"
DEFAULT_IDLE_MINUTES = 10.0
_IN_USE: list = []  # this process's shared lock on the usage file, held until it exits


class ServerError(Exception):
    """The home's Prefect server could not be started or reached; says what to check."""


@dataclass(frozen=True)
class ServerRecord:
    """Where the home's server answers and which process it is."""

    url: str
    pid: int
    port: int
    owner: str  # "home" (started on demand) or "ui" (lives as long as `retrain ui`)
    started_at: str

    @property
    def health(self) -> str:
        return f"{self.url}/health"


def startup_timeout() -> float:
    """Seconds to wait for a server to answer: ``RETRAIN_SERVER_STARTUP_TIMEOUT`` or 120."""
    raw = os.environ.get(TIMEOUT_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_STARTUP_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        raise ServerError(f"{TIMEOUT_VARIABLE}={raw!r}: expected a number of seconds") from None
    if value <= 0:
        raise ServerError(f"{TIMEOUT_VARIABLE}={raw!r}: expected a positive number of seconds")
    return value


def idle_seconds() -> float:
    """Unused this long, the server stops (``RETRAIN_SERVER_IDLE_MINUTES``, 10; 0 = never)."""
    raw = os.environ.get(IDLE_VARIABLE, "").strip()
    try:
        minutes = float(raw) if raw else DEFAULT_IDLE_MINUTES
    except ValueError:
        raise ServerError(f"{IDLE_VARIABLE}={raw!r}: expected a number of minutes") from None
    return max(0.0, minutes * 60)


def mark_in_use(home: Path, timeout: float) -> None:
    """Hold a shared lock on the usage file for this process's life and touch the file.

    The keeper stops an unused server only when it can take that lock exclusively, so a
    running command keeps its server; the kernel drops the lock however the process ends.
    The file is touched again when the process exits, so the idle time counts from the end of
    the last command, not from its start (a slow server start-up must not use it up).
    """
    if _IN_USE:
        return
    from retrain.server_keeper import usage_path

    path = usage_path(home)
    handle = path.open("a")
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            break
        except BlockingIOError:  # the keeper is stopping an unused server: wait, then start anew
            if time.monotonic() > deadline:
                handle.close()
                raise ServerError(f"{path} stayed locked for {timeout:.0f} s") from None
            time.sleep(0.2)
    os.utime(path)
    atexit.register(_touch_quietly, path)
    _IN_USE.append(handle)


def _touch_quietly(path: Path) -> None:
    try:
        os.utime(path)
    except OSError:  # the home went away meanwhile: nothing left to keep
        pass


def prefect_home(home: Path) -> Path:
    return Path(home).resolve() / "prefect"


def record_path(home: Path) -> Path:
    return prefect_home(home) / RECORD_NAME


def read_record(home: Path) -> ServerRecord | None:
    """The recorded server, or None when there is no record or it cannot be read."""
    try:
        return ServerRecord(**json.loads(record_path(home).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def write_record(home: Path, record: ServerRecord) -> None:
    path = record_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(json.dumps(asdict(record), indent=2) + "\n")
    os.replace(scratch, path)


def forget_record(home: Path, pid: int) -> None:
    """Remove the record if it still names ``pid`` (someone may have replaced it since)."""
    record = read_record(home)
    if record is not None and record.pid == pid:
        record_path(home).unlink(missing_ok=True)


def answers(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (OSError, ValueError):
        return False


def is_ours(record: ServerRecord, home: Path) -> bool:
    """The recorded pid still runs and is a Prefect server of this home (not a reused pid)."""
    return is_alive(record.pid) and serves_home(record.pid, prefect_home(home))


def wait_healthy(record: ServerRecord, home: Path, timeout: float) -> bool:
    """Poll the health endpoint until it answers, the process dies, or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answers(record.health):
            return True
        if not is_ours(record, home):
            return False
        time.sleep(0.5)
    return answers(record.health)


@contextmanager
def home_lock(home: Path, timeout: float) -> Iterator[None]:
    """One command at a time decides about the home's server; the kernel frees it on any exit."""
    path = prefect_home(home) / "retrain-server.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ServerError(f"another command has held {path} for {timeout:.0f} s") from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def healthy_record(home: Path, timeout: float) -> ServerRecord | None:
    """The recorded server if it is ours and answers (waiting while it starts); else None."""
    record = read_record(home)
    if record is None:
        return None
    if is_ours(record, home) and wait_healthy(record, home, timeout):
        return record
    return None


def ensure_server(home: Path, say: Callable[[str], None] | None = None) -> ServerRecord:
    """The home's running server, started now if there is none; orphans are ended first."""
    timeout = startup_timeout()
    home = Path(home)
    with home_lock(home, timeout + 30):
        mark_in_use(home, timeout)
        end_orphans(home)
        record = healthy_record(home, timeout)
        if record is not None:
            return record
        discard_stale(home)
        return start_server(home, timeout, say)


def discard_stale(home: Path) -> None:
    """End a recorded server that is ours but does not answer, and drop the record."""
    record = read_record(home)
    if record is None:
        return
    if is_ours(record, home):
        end_process(record.pid, group=True)
    record_path(home).unlink(missing_ok=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def server_env(home: Path, url: str) -> dict[str, str]:
    """Our environment minus Prefect client settings and parent tags, plus the home's state."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_") and k not in (PARENT_TAG, HOME_TAG)}
    env.update(
        PREFECT_HOME=str(prefect_home(home)),
        PREFECT_API_URL=url,
        DO_NOT_TRACK="1",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_LOGGING_LEVEL="WARNING",
    )
    for key in ("PREFECT_API_DATABASE_CONNECTION_URL",):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def start_server(home: Path, timeout: float, say: Callable[[str], None] | None = None) -> ServerRecord:
    """Start ``prefect server start`` in its own session, record it, wait until it answers."""
    port = free_port()
    url = f"http://{HOST}:{port}/api"
    log = Path(home) / "logs" / "prefect-server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "retrain.server_keeper",
        "--home",
        str(Path(home).resolve()),
        "--port",
        str(port),
        "--idle-seconds",
        str(idle_seconds()),
    ]
    with log.open("ab") as out:
        process = subprocess.Popen(
            command,
            env=server_env(home, url),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    record = ServerRecord(url, process.pid, port, "home", datetime.now(UTC).isoformat())
    write_record(home, record)
    if say is not None:
        say(f"starting the Prefect server of {home} on {url} (log: {log}) ...")
    if wait_healthy(record, home, timeout):
        return record
    problem = "exited" if process.poll() is not None else f"did not answer within {timeout:.0f} s"
    end_process(process.pid, group=True)
    forget_record(home, process.pid)
    raise ServerError(f"the Prefect server {problem}; see {log} (raise {TIMEOUT_VARIABLE} on a busy machine)")


def stop_server(home: Path) -> ServerRecord | None:
    """Stop the home's server (and any orphans); returns the record of what was stopped."""
    home = Path(home)
    with home_lock(home, startup_timeout() + 30):
        end_orphans(home)
        record = read_record(home)
        if record is None:
            return None
        if is_ours(record, home):
            if record.owner == "ui":
                raise ServerError(f"the server at {record.url} belongs to `retrain ui` (pid {record.pid}); stop that")
            end_process(record.pid, group=True)
        record_path(home).unlink(missing_ok=True)
        return record
