"""Shared builders for the training tests: synthetic frames, configs, score-column models."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from base.settings import ModelConfig

CITIES = ["ams", "ber", "cph", "dub", "edi"]


def _merge(base: dict, extra: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


@pytest.fixture
def make_config(tmp_path):
    """``make_config(task, **sections)`` → a validated ModelConfig with small, fast defaults."""

    def build(task: str = "binary", **sections) -> ModelConfig:
        base = {
            "name": "unit-model",
            "task": task,
            "data": {"path": str(tmp_path / "*.csv"), "timestamp_column": "ts", "target_column": "y"},
            "validation": {"suite": "suite.json"},
            "window": {"holdout_days": 10, "min_train_rows": 50, "min_holdout_rows": 20},
            "gate": {"bootstrap": {"resamples": 200, "seed": 0}},
        }
        return ModelConfig.model_validate(_merge(base, sections))

    return build


def synthetic_frame(task: str = "binary", n: int = 600, seed: int = 0, days: int = 60) -> pd.DataFrame:
    """Mixed dtypes with missing values and a target that depends on x1, x2 and city."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-01-01", tz="UTC")
    ts = start + pd.to_timedelta(np.sort(rng.uniform(0, days * 24, n)), unit="h")
    x1 = rng.normal(0, 1, n)
    x2 = rng.normal(0, 1, n)
    city = rng.choice(CITIES, n)
    flag = rng.random(n) < 0.3
    effect = pd.Series(city).map(dict(zip(CITIES, [-1.0, -0.5, 0.0, 0.5, 1.0], strict=False))).to_numpy()
    signal = 1.5 * x1 - 1.0 * x2 + effect + 0.5 * flag
    df = pd.DataFrame({"ts": ts, "x1": x1, "x2": x2, "city": city.astype(object), "flag": flag})
    df.loc[rng.random(n) < 0.05, "x2"] = np.nan
    df.loc[rng.random(n) < 0.05, "city"] = np.nan
    if task == "binary":
        df["y"] = (signal + rng.logistic(0, 0.7, n) > 0).astype(int)
    elif task == "multiclass":
        df["y"] = np.select([signal < -1, signal > 1], ["low", "high"], "mid")
    else:
        df["y"] = 10 + 3 * signal + rng.normal(0, 1, n)
    return df


@pytest.fixture
def frame():
    """The synthetic frame builder, as a fixture so tests need no conftest import."""
    return synthetic_frame


class ScoreColumnClassifier(ClassifierMixin, BaseEstimator):
    """Binary classifier whose positive-class probability is a column of X.

    Lets gate tests fix both models' holdout outputs exactly, without depending on how
    well a real estimator happens to fit a small synthetic sample.
    """

    def __init__(self, column: str = "score"):
        self.column = column

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def predict_proba(self, X):
        p = X[self.column].to_numpy(dtype=float)
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]


class ScoreColumnRegressor(RegressorMixin, BaseEstimator):
    """Regressor whose prediction is a column of X."""

    def __init__(self, column: str = "score"):
        self.column = column

    def fit(self, X, y):
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def predict(self, X):
        return X[self.column].to_numpy(dtype=float)


@pytest.fixture
def score_models():
    return ScoreColumnClassifier, ScoreColumnRegressor


@pytest.fixture(scope="session", autouse=True)
def single_threaded_native_code():
    """One OpenMP/BLAS thread: on a busy 2-core runner, spinning thread pools make small
    HistGradientBoosting fits 20–100× slower than running them on one thread."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield
