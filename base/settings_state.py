"""Where a model's state lives: the home folder, the MLflow store and the promotion ledger.

Environment variables (``RETRAIN_HOME``, ``RETRAIN_TRACKING_URI``, ``RETRAIN_LEDGER_URL``,
``RETRAIN_SERVING_URL``) override the state section so CI and the production profile can point
the same config at other stores.

The serving state (review queue, labels, prediction log) follows the ledger into a shared
database: a team whose ledger is PostgreSQL keeps it there too, so rows scored by a worker on
one machine are seen by a reviewer or a feedback run on another. Embedded, it stays in files
under the home.
"""

from __future__ import annotations

import os
from pathlib import Path

from base.settings_checks import Strict


class StateConfig(Strict):
    """Where state lives. Defaults: everything under one home folder."""

    home: str | None = None
    tracking_uri: str | None = None
    ledger_url: str | None = None
    serving_url: str | None = None  # review queue, labels, prediction log; None = follow a shared ledger, else the home


LOCAL_STATE = "home"  # the serving state in files under the home (SQLite and Parquet)


def resolve_home(explicit: str | None = None) -> Path:
    """``RETRAIN_HOME`` wins, then the config, then ``./.retrain``."""
    raw = os.environ.get("RETRAIN_HOME") or explicit or ".retrain"
    return Path(raw).expanduser().resolve()


def default_tracking_uri(home: Path) -> str:
    return f"sqlite:///{home / 'mlflow.db'}"


def default_ledger_url(home: Path) -> str:
    return f"sqlite:///{home / 'ledger.db'}"


def store_urls(
    home: str | None = None, tracking_uri: str | None = None, ledger_url: str | None = None
) -> tuple[str, str]:
    """Registry and ledger locations without a model config: explicit, then env, then home.

    Commands that name a model (rollback, history, status) and the UI flows use this, so
    all of them find the same stores as ``ModelConfig.tracking_uri`` / ``ledger_url``.
    """
    root = resolve_home(home)
    return (
        tracking_uri or os.environ.get("RETRAIN_TRACKING_URI") or default_tracking_uri(root),
        ledger_url or os.environ.get("RETRAIN_LEDGER_URL") or default_ledger_url(root),
    )


def serving_state_url(explicit: str | None = None, ledger_url: str | None = None) -> str:
    """Where the serving state lives: ``RETRAIN_SERVING_URL``, then the config, then the ledger's
    database when it is shared (not SQLite), else ``LOCAL_STATE`` (files under the home)."""
    chosen = os.environ.get("RETRAIN_SERVING_URL") or explicit
    if chosen:
        return chosen
    ledger = ledger_url or os.environ.get("RETRAIN_LEDGER_URL") or ""
    return ledger if ledger and not ledger.startswith("sqlite") else LOCAL_STATE


def review_page_url() -> str:
    """Where reviewers open the review page: ``RETRAIN_REVIEW_URL``, else ``retrain ui``'s address."""
    return os.environ.get("RETRAIN_REVIEW_URL") or "http://127.0.0.1:4300"
