"""Find, tag and end the server processes a Retrain home owns, with the standard library only.

A server started for a home must never become a stray: either the home owns it (its pid
is recorded under the home, ``retrain server stop`` ends it) or a live Retrain process
owns it. The second kind carries ``RETRAIN_PARENT=<pid>:<start time>`` and
``RETRAIN_OWNER_HOME=<home>`` in its environment; once that parent is gone (even after
``kill -9``) the next command that looks after the home finds the orphan through
``/proc`` and ends it.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

PARENT_TAG = "RETRAIN_PARENT"
HOME_TAG = "RETRAIN_OWNER_HOME"
SERVER_MARKERS = ("uvicorn", " server ")
KEEPER_MODULE = "retrain.processes.keeper"


def start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot): with the pid, a unique id."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def parent_tag(pid: int | None = None) -> str:
    """``pid:start time`` of this process (or ``pid``), so a reused pid is not mistaken for it."""
    pid = os.getpid() if pid is None else pid
    return f"{pid}:{start_time(pid) or '?'}"


def owner_tags(home: Path) -> dict[str, str]:
    """Environment entries that tie a child server to this process and this home."""
    return {PARENT_TAG: parent_tag(), HOME_TAG: str(Path(home).resolve())}


def tag_alive(tag: str) -> bool:
    """Whether the process a tag names still runs (same pid and same start time)."""
    pid, _, started = tag.partition(":")
    if not pid.isdigit():
        return False
    current = start_time(int(pid))
    return current is not None and (started in ("?", "") or current == started)


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _state(pid) not in ("Z", "X")


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def environ_of(pid: int) -> dict[str, str]:
    """Environment of a process of the same user; empty when it is unreadable or gone."""
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.partition(b"=") for item in raw.split(b"\0") if item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, _, v in pairs}


def cmdline_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def serves_home(pid: int, prefect_home: Path) -> bool:
    """Whether ``pid`` is a Prefect server (or its keeper) whose state lives in ``prefect_home``."""
    command = cmdline_of(pid)
    is_server = "prefect" in command and any(marker in command for marker in SERVER_MARKERS)
    if not is_server and KEEPER_MODULE not in command:
        return False
    return environ_of(pid).get("PREFECT_HOME") == str(prefect_home)


def list_pids() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []


def find_orphans(home: Path) -> list[int]:
    """Processes tagged with this home whose tagged Retrain parent has exited."""
    home_text = str(Path(home).resolve())
    found = []
    for pid in list_pids():
        if pid == os.getpid():
            continue
        env = environ_of(pid)
        tag = env.get(PARENT_TAG)
        if env.get(HOME_TAG) == home_text and tag and not tag_alive(tag):
            found.append(pid)
    return found


def end_process(pid: int, grace: float = 10.0, group: bool = False) -> bool:
    """SIGTERM (the group when ``group``), SIGKILL after ``grace`` seconds; True once it is gone."""
    kill = os.killpg if group else os.kill
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            return not is_alive(pid)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            _reap(pid)
            if not is_alive(pid):
                return True
            time.sleep(0.1)
    return not is_alive(pid)


def _reap(pid: int) -> None:
    """Collect our own exited child so it does not linger as a zombie."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def end_orphans(home: Path) -> list[int]:
    """End every orphaned server of this home; returns the pids that were ended."""
    return [pid for pid in find_orphans(home) if end_process(pid, group=leads_group(pid))]


def leads_group(pid: int) -> bool:
    """A server started in its own session leads its group: end the group, helpers included."""
    try:
        return os.getpgid(pid) == pid
    except ProcessLookupError:
        return False
