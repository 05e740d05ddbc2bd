"""One child server of a command: how it starts, where it answers, how it stops.

It runs in its own session (its own process group) with its output in a log file, so
Ctrl-C in the terminal reaches only the command, which then stops the whole group
(SIGTERM, then SIGKILL after a grace period) and waits for it: no helper process of the
server keeps a port or a database busy.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from retrain.processes.health import POLL_SECONDS, answers

STOP_GRACE_SECONDS = 15


@dataclass
class Service:
    """One child server: how to start it, where it answers, where it logs."""

    name: str
    command: list[str]
    env: dict[str, str]
    address: str
    health: str
    log: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> int | None:
        """SIGTERM the whole group, SIGKILL it if it lingers; returns the exit code."""
        if self.process is None:
            return None
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            if self.process.poll() is not None:
                break
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
        return self.process.poll()


def wait_until_healthy(services: list[Service], timeout: float) -> list[str]:
    """Names of the services that died or did not answer within ``timeout``."""
    deadline = time.monotonic() + timeout
    pending = list(services)
    while pending and time.monotonic() < deadline:
        pending = [s for s in pending if s.running() and not answers(s.health)]
        if any(not s.running() for s in pending):
            break
        time.sleep(POLL_SECONDS)
    return [s.name for s in services if not s.running() or s in pending]


def stop_all(services: list[Service]) -> dict[str, int | None]:
    return {s.name: s.stop() for s in services}
