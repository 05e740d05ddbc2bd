"""Who is acting and how loud the wrapped libraries are: process facts every layer may use.

Bottom layer: imports nothing of ours, and only the standard library at import time.
"""

from __future__ import annotations

import os

FAILPOINT_ENV = "RETRAIN_FAILPOINT"  # test hook: after_intent | after_alias | after_register | mid_slice


def failpoint(point: str) -> None:
    """Die at a named step when ``RETRAIN_FAILPOINT`` names it: crash tests need no timing."""
    if os.environ.get(FAILPOINT_ENV) == point:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def actor() -> str:
    """Who is acting, for the ledger: ``RETRAIN_ACTOR`` or user@host."""
    explicit = os.environ.get("RETRAIN_ACTOR")
    if explicit:
        return explicit
    import getpass
    import socket

    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def quiet_libraries() -> None:
    """Silence progress bars, analytics and chatty loggers of the wrapped libraries.

    The one place for it: Alembic logs every migration of a fresh SQLite store, MLflow notes
    that uv environments have no ``pip`` and draws progress bars for millisecond copies, GX
    draws its own; none of it says anything to a Retrain user.
    """
    import logging
    import warnings

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    # a tracking server makes MLflow print run links on stdout, which would break --json
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    for name in ("great_expectations", "alembic", "mlflow", "evidently", "urllib3"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", message=".*pkg_resources.*")
