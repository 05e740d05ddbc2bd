"""Shared fixtures for the monitoring unit tests: small synthetic batches and configs.

Frames are small (a few hundred rows) and seeded, so tests stay fast and every run sees
the same data; tests derive their broken variants from these frames explicitly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from base.settings import ModelConfig

CARRIERS = ["AA", "B6", "DL", "UA", "WN"]
ORIGINS = ["EWR", "JFK", "LGA"]


def build_config(task: str = "binary", **data: Any) -> ModelConfig:
    """A valid config for the synthetic batches; ``data`` overrides the data section."""
    section = {"path": "batches/*.csv", "timestamp_column": "ts", "target_column": "late", "exclude": ["flight"]}
    return ModelConfig.model_validate(
        {"name": "flights-test", "task": task, "data": section | data, "validation": {"suite": "suite.json"}}
    )


def build_batch(rows: int = 200, seed: int = 0) -> pd.DataFrame:
    """One batch with every dtype the monitoring code has to handle.

    ``ts`` UTC timestamps; ``distance`` int; ``temp`` float with ~5 % nulls; ``carrier``
    object strings; ``origin`` category; ``weekend`` bool; ``flight`` an excluded id;
    ``late`` the binary target.
    """
    rng = np.random.default_rng(seed)
    temp = rng.uniform(20.0, 80.0, rows)
    temp[rng.random(rows) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "ts": pd.date_range("2024-01-01", periods=rows, freq="h", tz="UTC"),
            "distance": rng.integers(100, 3000, rows),
            "temp": temp,
            "carrier": rng.choice(CARRIERS, rows),
            "origin": pd.Categorical(rng.choice(ORIGINS, rows)),
            "weekend": rng.random(rows) < 0.3,
            "flight": rng.integers(1, 9000, rows),
            "late": rng.integers(0, 2, rows),
        }
    )


@pytest.fixture
def make_config() -> Callable[..., ModelConfig]:
    return build_config


@pytest.fixture
def make_batch() -> Callable[..., pd.DataFrame]:
    return build_batch


@pytest.fixture
def batch() -> pd.DataFrame:
    return build_batch()


@pytest.fixture
def config() -> ModelConfig:
    return build_config()
