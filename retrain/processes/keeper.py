"""Keep the home's Prefect server while commands use it; stop it after a quiet spell.

An idle Prefect server still runs its background services (about 0.9 s of CPU a minute on
two cores), so a server nobody uses must not live forever. This small process starts
``prefect server start`` as its child, in the session ``retrain.processes.home_server``
created for it, and watches ``<home>/prefect/retrain-server.used``
(``retrain.processes.usage``): every command holds a shared lock on that file while it
runs and touches it when it starts. Once no command holds the lock and
nothing touched the file for ``--idle-seconds``, the keeper takes the lock exclusively (so
no command can pick the server up meanwhile), drops the record and stops the server.
Run as ``python -m retrain.processes.keeper --home H --port P --idle-seconds S
[--poll-seconds N]``.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from retrain.processes.home_record import DEFAULT_POLL_SECONDS, forget_record
from retrain.processes.usage import claim_if_unused, usage_path

STOP_GRACE = 15.0


def stop_child(child: subprocess.Popen) -> None:
    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout=STOP_GRACE)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def watch(home: Path, child: subprocess.Popen, idle_seconds: float, poll: float = DEFAULT_POLL_SECONDS) -> int:
    """Wait for the server to exit, or stop it once it has been unused for ``idle_seconds``."""
    path = usage_path(home)
    path.touch()
    last_busy = time.time()
    with path.open("a") as handle:
        while child.poll() is None:
            time.sleep(poll)
            if idle_seconds <= 0:
                continue
            quiet_since = max(last_busy, path.stat().st_mtime)
            if time.time() - quiet_since < idle_seconds:
                continue
            if not claim_if_unused(handle):
                last_busy = time.time()
                continue
            forget_record(home, os.getpid())
            stop_child(child)
            return 0
    return child.returncode or 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", required=True, type=Path)
    parser.add_argument("--port", required=True, type=int)
    parser.add_argument("--idle-seconds", type=float, default=0.0)
    parser.add_argument("--poll-seconds", type=float, default=DEFAULT_POLL_SECONDS)
    args = parser.parse_args(argv)
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(args.port)]
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL)

    def on_term(signum: int, frame: object) -> None:
        stop_child(child)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    return watch(args.home, child, args.idle_seconds, args.poll_seconds)


if __name__ == "__main__":
    sys.exit(main())
