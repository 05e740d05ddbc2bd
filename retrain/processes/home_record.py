"""The record of a home's Prefect server, its settings, and whether its process is still ours.

``<home>/prefect/retrain-server.json`` holds the address and pid of the server the home
shares between commands (``retrain.processes.home_server``). A record whose process is
gone, or is no longer a Prefect server of this home (a reused pid), is stale.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from retrain.processes import records
from retrain.processes.pids import is_alive, serves_home

RECORD_NAME = "retrain-server.json"
TIMEOUT_VARIABLE = "RETRAIN_SERVER_STARTUP_TIMEOUT"
DEFAULT_STARTUP_TIMEOUT = 120.0
IDLE_VARIABLE = "RETRAIN_SERVER_IDLE_MINUTES"
DEFAULT_IDLE_MINUTES = 10.0
POLL_VARIABLE = "RETRAIN_SERVER_POLL_SECONDS"
DEFAULT_POLL_SECONDS = 5.0


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


def poll_seconds() -> float:
    """How often the keeper looks whether its server is unused (``RETRAIN_SERVER_POLL_SECONDS``, 5).

    The server stops up to one poll after its idle time; tests with a short idle time poll
    faster instead of sleeping through five-second polls.
    """
    raw = os.environ.get(POLL_VARIABLE, "").strip()
    try:
        value = float(raw) if raw else DEFAULT_POLL_SECONDS
    except ValueError:
        raise ServerError(f"{POLL_VARIABLE}={raw!r}: expected a number of seconds") from None
    if value <= 0:
        raise ServerError(f"{POLL_VARIABLE}={raw!r}: expected a positive number of seconds")
    return value


def prefect_home(home: Path) -> Path:
    return Path(home).resolve() / "prefect"


def record_path(home: Path) -> Path:
    return prefect_home(home) / RECORD_NAME


def read_record(home: Path) -> ServerRecord | None:
    """The recorded server, or None when there is no record or it cannot be read."""
    return records.read_record(record_path(home), ServerRecord)


def write_record(home: Path, record: ServerRecord) -> None:
    records.write_record(record_path(home), record)


def drop_record(home: Path) -> None:
    records.drop_record(record_path(home))


def forget_record(home: Path, pid: int) -> None:
    """Remove the record if it still names ``pid`` (someone may have replaced it since)."""
    record = read_record(home)
    if record is not None and record.pid == pid:
        drop_record(home)


def is_ours(record: ServerRecord, home: Path) -> bool:
    """The recorded pid still runs and is a Prefect server of this home (not a reused pid)."""
    return is_alive(record.pid) and serves_home(record.pid, prefect_home(home))
