"""Suite-wide settings: no analytics, and one OpenMP thread.

The machines are 2 shared cores; gradient boosting's default thread pool competing with the
Prefect test server made small fits 20-100x slower. One thread keeps tests predictable.
"""

import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


@pytest.fixture(scope="session")
def migrated_mlflow_db(tmp_path_factory) -> Path:
    """An empty MLflow database with every migration applied, copied into each test's home.

    Migrating a fresh sqlite file takes 6-10 s on two cores; copying one takes milliseconds.
    """
    from mlflow import MlflowClient

    from registry.store import quiet_mlflow

    quiet_mlflow()
    path = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def mlflow_globals(monkeypatch):
    """Put back MLflow's process-wide URIs (also environment variables) after a test."""
    import mlflow

    for var in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        monkeypatch.setenv(var, "")  # makes monkeypatch remember the original value
        monkeypatch.delenv(var)
    yield
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)
