"""Stop any command within seconds on SIGTERM or Ctrl-C, with one line and the usual exit code.

A service manager or CI runner sends SIGTERM and waits a few seconds before SIGKILL; a
person presses Ctrl-C once. Either way the command prints one line on stderr, lets the
code that is running unwind (a Prefect flow run marks itself crashed, ``finally`` blocks
close database connections, which frees the ledger lock) and exits 143 or 130, like a
shell does. Unwinding gets ``RETRAIN_STOP_GRACE`` seconds (default 3); after that, or at
a second signal, the process exits at once: the kernel closes its files and connections
either way. Library logging is silenced on the way out so no traceback follows the line.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

GRACE_VARIABLE = "RETRAIN_STOP_GRACE"
DEFAULT_GRACE = 3.0
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
MESSAGES = {signal.SIGINT: "interrupted (Ctrl-C)", signal.SIGTERM: "stopped by SIGTERM"}

_stopping = threading.Event()


def install_stop_handlers() -> None:
    """Route SIGINT and SIGTERM to ``handle_stop``; a no-op outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in EXIT_CODES:
        signal.signal(signum, handle_stop)


def leave_to_command() -> None:
    """Give SIGINT/SIGTERM back to a long-running command that stops its own children.

    ``retrain ui`` and ``retrain serve`` supervise servers and flow-run processes; they
    need longer than the grace to stop them, so they handle the signals themselves.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def stop_grace() -> float:
    try:
        return max(0.0, float(os.environ.get(GRACE_VARIABLE, DEFAULT_GRACE)))
    except ValueError:
        return DEFAULT_GRACE


def handle_stop(signum: int, frame: object) -> None:
    """First signal: say so, unwind with SystemExit, exit hard after the grace. Second: exit now."""
    code = EXIT_CODES.get(signal.Signals(signum), 128 + signum)
    if _stopping.is_set():
        os._exit(code)
    _stopping.set()
    say(f"retrain: {MESSAGES.get(signal.Signals(signum), signal.Signals(signum).name)}; exiting")
    silence_output()
    timer = threading.Timer(stop_grace(), os._exit, args=(code,))
    timer.daemon = True
    timer.start()
    raise SystemExit(code)


def say(line: str) -> None:
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def silence_output() -> None:
    """No log records or tracebacks after the one line: the stop is expected, not a failure."""
    logging.disable(logging.CRITICAL)
    sys.excepthook = lambda *args: None
    threading.excepthook = lambda args: None
    try:
        devnull = open(os.devnull, "w")  # noqa: SIM115 - stays open until the process exits
        sys.stderr = devnull
    except OSError:
        pass
