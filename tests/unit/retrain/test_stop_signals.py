"""SIGTERM and SIGINT end a command with one line and 143/130, even when code ignores them."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

BUSY = """
import sys, time
from retrain.stopping import install_stop_handlers
install_stop_handlers()
try:
    print("ready", flush=True)
    time.sleep(60)
finally:
    print("unwound", flush=True)
"""

STUBBORN = """
import sys, time
from retrain.stopping import install_stop_handlers
install_stop_handlers()
print("ready", flush=True)
while True:
    try:
        time.sleep(60)
    except SystemExit:
        pass  # code that swallows the stop: the grace period still ends the process
"""


def start(code: str, **env: str) -> subprocess.Popen:
    import os

    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )
    assert process.stdout.readline().strip() == "ready"
    return process


@pytest.mark.parametrize(
    "signum, code, line",
    [
        (signal.SIGTERM, 143, "retrain: stopped by SIGTERM; exiting"),
        (signal.SIGINT, 130, "retrain: interrupted (Ctrl-C); exiting"),
    ],
)
def test_a_signal_unwinds_and_exits_with_the_shell_code(signum, code, line):
    process = start(BUSY)
    process.send_signal(signum)
    out, err = process.communicate(timeout=30)
    assert process.returncode == code
    assert out.strip() == "unwound"  # finally blocks ran: connections and locks are released
    assert err.strip() == line


def test_code_that_swallows_the_stop_is_ended_after_the_grace():
    process = start(STUBBORN, RETRAIN_STOP_GRACE="1")
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    assert process.returncode == 143
    assert time.monotonic() - sent < 20


def test_a_second_signal_exits_at_once():
    process = start(STUBBORN, RETRAIN_STOP_GRACE="60")
    process.send_signal(signal.SIGINT)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=30)
    assert process.returncode == 130
