"""Process-level setup done once at an entry point, before Prefect is imported.

Prefect reads its settings from the environment at import time, so the embedded defaults
(state under the Retrain home, which server to talk to, no analytics, quiet logs) must be
in place first. Values the user already set always win: with ``PREFECT_API_URL`` set, that
server is used and nothing is started.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

SERVER_MODE_VARIABLE = "RETRAIN_PREFECT_SERVER"  # "home" (default) or "ephemeral"


def prepare_prefect(home: Path, quiet: bool = False, say: Callable[[str], None] | None = None) -> str | None:
    """Point Prefect at a server and at ``<home>/prefect``; returns the API URL in use.

    Without ``PREFECT_API_URL`` the home's shared server is started or reused
    (``retrain.processes.home_server``). ``RETRAIN_PREFECT_SERVER=ephemeral`` keeps Prefect's temporary
    per-process server instead, with the same generous start-up wait; such a server is
    tagged with this process, so the next command ends it if this one is killed.
    Raises ``retrain.processes.home_record.ServerError`` when the home's server cannot be started.
    """
    from retrain.processes.home_record import prefect_home, startup_timeout
    from retrain.processes.home_server import ensure_server
    from retrain.processes.pids import end_orphans, owner_tags

    home.mkdir(parents=True, exist_ok=True)
    set_quiet_defaults(quiet)
    configured = configured_api_url()
    if configured:
        return configured
    os.environ.setdefault("PREFECT_HOME", str(prefect_home(home)))
    if os.environ.get(SERVER_MODE_VARIABLE, "home").strip().lower() == "ephemeral":
        os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", str(round(startup_timeout())))
        os.environ.update(owner_tags(home))
        end_orphans(home)
        return None
    record = ensure_server(home, say=say)
    os.environ["PREFECT_API_URL"] = record.url
    return record.url


def configured_api_url() -> str | None:
    """``PREFECT_API_URL`` from the environment, or from Prefect's settings if already loaded."""
    explicit = os.environ.get("PREFECT_API_URL", "").strip()
    if explicit:
        return explicit
    if "prefect.settings" not in sys.modules:
        return None
    from prefect.settings import get_current_settings

    return get_current_settings().api.url or None


def set_quiet_defaults(quiet: bool) -> None:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    if quiet:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        os.environ.setdefault("PREFECT_LOGGING_SERVER_LEVEL", "ERROR")
