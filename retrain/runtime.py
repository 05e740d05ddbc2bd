"""Process-level setup done once at an entry point, before Prefect is imported.

Prefect reads its settings from the environment at import time, so the embedded defaults
(state under the Retrain home, no analytics, quiet logs) must be in place first. Values the
user already set always win.
"""

from __future__ import annotations

import os
from pathlib import Path


def prepare_prefect(home: Path, quiet: bool = False) -> None:
    """Point Prefect at ``<home>/prefect`` unless the user configured a server or a home."""
    home.mkdir(parents=True, exist_ok=True)
    if not os.environ.get("PREFECT_API_URL"):
        os.environ.setdefault("PREFECT_HOME", str(home / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    if quiet:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        os.environ.setdefault("PREFECT_LOGGING_SERVER_LEVEL", "ERROR")


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
    """Silence progress bars, analytics and chatty loggers of the wrapped libraries."""
    import logging
    import warnings

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    for name in ("great_expectations", "alembic", "mlflow", "evidently", "urllib3"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", message=".*pkg_resources.*")
