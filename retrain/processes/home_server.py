"""One Prefect server per Retrain home, started on demand and shared by every command.

Without ``PREFECT_API_URL`` each Prefect process would start a temporary server of its own:
about 7 s of CPU per command, and a start-up wait (20 s by default) that runs out on a busy
machine. Instead the first command that needs Prefect starts ``prefect server start`` on a
free port of 127.0.0.1, with its SQLite under ``<home>/prefect``, and records its address
and pid in ``<home>/prefect/retrain-server.json``; later commands find it there and reuse
it, and their runs show in its UI. The home owns that server, not the command: it keeps
running until ``retrain server stop`` or until nobody used it for a while
(``retrain.processes.keeper``). A record whose process is gone, or is no longer a Prefect
server of this home, is stale and replaced. Only the standard library is imported.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from retrain.processes.health import HOST, answers, free_port, wait_answering
from retrain.processes.home_record import (
    TIMEOUT_VARIABLE,
    ServerError,
    ServerRecord,
    drop_record,
    forget_record,
    idle_seconds,
    is_ours,
    poll_seconds,
    prefect_home,
    read_record,
    startup_timeout,
    write_record,
)
from retrain.processes.pids import HOME_TAG, PARENT_TAG, end_orphans, end_process
from retrain.processes.usage import mark_in_use


def wait_healthy(record: ServerRecord, home: Path, timeout: float) -> bool:
    """Poll the health endpoint until it answers, the process dies, or ``timeout`` passes."""
    return wait_answering(record.health, lambda: is_ours(record, home), timeout)


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
    drop_record(home)


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
        "retrain.processes.keeper",
        "--home",
        str(Path(home).resolve()),
        "--port",
        str(port),
        "--idle-seconds",
        str(idle_seconds()),
        "--poll-seconds",
        str(poll_seconds()),
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
        drop_record(home)
        return record


def server_state(home: Path) -> tuple[ServerRecord | None, str]:
    """The recorded server and what it does now: running, not answering, stale or not running."""
    record = read_record(home)
    if record is None:
        return None, "not running"
    if not is_ours(record, home):
        return record, "stale record (its process is gone; the next command replaces it)"
    return record, "running" if answers(record.health) else "not answering"


def shared_server_url(home: Path) -> str | None:
    """The URL of the home's shared server when one is recorded and ours, else None.

    Using it marks it in use for this process's life, so it does not stop for being idle
    while the caller runs deployments on it.
    """
    record = read_record(home)
    if record is None or not is_ours(record, home):
        return None
    try:
        mark_in_use(home, startup_timeout())
    except ServerError:
        return None
    return record.url if read_record(home) == record else None  # not stopped for idleness meanwhile
