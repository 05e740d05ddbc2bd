"""Shared fixtures for the registry tests: a real MLflow store in a temporary home.

Every test gets its own sqlite database and artifact folder, and MLflow's
process-wide URIs (which ``connect`` sets, also as environment variables) are
put back afterwards so no test writes into another test's store.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from base.settings import ModelConfig
from registry.types import VersionInfo

FEATURES = ["distance", "hour", "carrier"]


@pytest.fixture
def registry_config(tmp_path, monkeypatch) -> ModelConfig:
    """A binary model config whose home is a fresh temporary folder."""
    for var in ("RETRAIN_HOME", "RETRAIN_TRACKING_URI", "RETRAIN_LEDGER_URL"):
        monkeypatch.delenv(var, raising=False)
    return ModelConfig.model_validate(
        {
            "name": "late-flights",
            "task": "binary",
            "data": {"path": "batches/*.csv", "timestamp_column": "time_hour", "target_column": "late"},
            "validation": {"suite": "suite.json"},
            "state": {"home": str(tmp_path / "home")},
        }
    )


@pytest.fixture
def mlflow_client(registry_config, migrated_mlflow_db, mlflow_globals):
    """A client connected to the temporary home, its database copied from the template."""
    from registry.store import connect

    registry_config.home.mkdir(parents=True)
    shutil.copy(migrated_mlflow_db, registry_config.home / "mlflow.db")
    return connect(registry_config)


@pytest.fixture(scope="session")
def features() -> list[str]:
    return list(FEATURES)


@pytest.fixture(scope="session")
def tiny_frame() -> pd.DataFrame:
    """100 flights-like rows: a float, an integer and a string feature plus the label."""
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "distance": rng.uniform(100, 2500, 100),
            "hour": rng.integers(5, 23, 100),
            "carrier": rng.choice(["AA", "DL", "UA"], 100),
        }
    )
    frame["late"] = ((frame["hour"] > 16) ^ (rng.random(100) < 0.2)).astype(int)
    return frame


def _fit(frame: pd.DataFrame, estimator=None):
    """One-hot encoding plus a classifier, the shape of pipeline training produces."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    encode = ColumnTransformer(
        [("carrier", OneHotEncoder(handle_unknown="ignore"), ["carrier"])], remainder="passthrough"
    )
    estimator = estimator or HistGradientBoostingClassifier(max_iter=15, random_state=0)
    return Pipeline([("encode", encode), ("model", estimator)]).fit(frame[FEATURES], frame["late"])


@pytest.fixture(scope="session")
def tiny_model(tiny_frame):
    """Gradient boosting: its tree predictors are outside skops' default trusted types."""
    return _fit(tiny_frame)


@pytest.fixture(scope="session")
def other_model(tiny_frame):
    """A second, different model so tests can tell two versions apart."""
    from sklearn.linear_model import LogisticRegression

    return _fit(tiny_frame, LogisticRegression(C=0.5, max_iter=500))


@pytest.fixture
def register(mlflow_client, registry_config, tiny_frame, tiny_model) -> Callable[..., VersionInfo]:
    """Register a candidate with plausible lineage; keyword arguments override the defaults."""
    from registry.versions import register_candidate

    def _register(model=None, **overrides) -> VersionInfo:
        arguments = {
            "lineage": {"data_hash": "f" * 64, "rows": len(tiny_frame), "batch_files": ["2013-01.csv"]},
            "metrics": {"roc_auc": 0.81, "f1": 0.62, "log_loss": 0.45},
            "params": {"estimator": {"max_iter": 15}},
            "decision": {"promote": True, "reasons": ["no champion yet"], "metric": "roc_auc"},
        }
        arguments.update(overrides)
        return register_candidate(
            mlflow_client, registry_config, model or tiny_model, tiny_frame[FEATURES], **arguments
        )

    return _register
