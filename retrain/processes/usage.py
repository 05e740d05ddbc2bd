"""Who uses the home's Prefect server: a shared lock per command on one usage file.

Every command that talks to the home's server holds a shared lock on
``<home>/prefect/retrain-server.used`` for its life and touches the file; the keeper
(``retrain.processes.keeper``) stops an unused server only once it can take that lock
exclusively, so a running command keeps its server. The kernel drops a lock however the
process ends.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import time
from pathlib import Path
from typing import IO

from retrain.processes.home_record import ServerError, prefect_home

USAGE_NAME = "retrain-server.used"
_IN_USE: list = []  # this process's shared lock on the usage file, held until it exits


def usage_path(home: Path) -> Path:
    return prefect_home(home) / USAGE_NAME


def mark_in_use(home: Path, timeout: float) -> None:
    """Hold a shared lock on the usage file for this process's life and touch the file.

    The file is touched again when the process exits, so the idle time counts from the end of
    the last command, not from its start (a slow server start-up must not use it up).
    """
    if _IN_USE:
        return
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


def claim_if_unused(handle: IO[str]) -> bool:
    """Take the usage lock exclusively when no command holds it; kept until this process exits."""
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
