"""The one health check of every server Retrain starts, and the ports they take.

A server is healthy when its health endpoint answers 200; anything else (refused, reset,
a timeout, a bad address) means not yet, never an exception: callers poll.
"""

from __future__ import annotations

import socket
import time
import urllib.request
from collections.abc import Callable

HOST = "127.0.0.1"
POLL_SECONDS = 0.5


def answers(url: str, timeout: float = 2.0) -> bool:
    """True when ``url`` answers 200; any network error means not (yet) healthy."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (OSError, ValueError):
        return False


def wait_answering(url: str, alive: Callable[[], bool], timeout: float) -> bool:
    """Poll ``url`` until it answers, ``alive()`` turns false, or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answers(url):
            return True
        if not alive():
            return False
        time.sleep(POLL_SECONDS)
    return answers(url)


def port_free(port: int, host: str = HOST) -> bool:
    """Nobody listens on ``host:port`` yet."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((host, port)) != 0


def free_port(host: str = HOST) -> int:
    """A port the kernel has free right now, for a server that needs no fixed one."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
