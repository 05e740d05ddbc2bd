"""The operating sections of a model's settings: drift checks, schedules, the run lease, compute."""

from __future__ import annotations

import os
from datetime import datetime

from pydantic import Field, field_validator

from base.settings_checks import Strict
from base.vocabulary import Signal


class EffectConfig(Strict):
    """Smallest shift worth a retrain, per kind of column, in the distance each is measured with.

    A shift must be both beyond sampling noise and at least this large to count; below the
    batch size where a shift this large could be told from noise, a column is "too small to
    tell". The defaults are Evidently's own thresholds for these distances.
    """

    numerical: float = Field(default=0.1, ge=0.0, description="normed Wasserstein: a 0.1-std move of the mean")
    categorical: float = Field(default=0.1, ge=0.0, description="Jensen-Shannon distance of the category shares")
    prediction: float = Field(default=0.1, ge=0.0, description="the champion's outputs, by their own method")


class DriftConfig(Strict):
    drift_share: float = Field(default=0.5, gt=0.0, le=1.0)
    min_effect: EffectConfig = Field(default_factory=EffectConfig)
    column_threshold: float | None = Field(
        default=None, ge=0.0, description="smallest distance that counts for every column, on top of min_effect"
    )
    alpha: float = Field(default=0.01, gt=0.0, le=0.2, description="false-alarm rate per column")
    min_rows: int = Field(default=50, ge=2, description="fewer values on a side: insufficient_data")
    sample_rows: int = Field(default=20000, ge=100)
    seed: int = 0
    performance_tolerance: float = Field(default=0.05, ge=0.0)
    triggers: list[Signal] = Field(default_factory=lambda: [Signal.DRIFT, Signal.PERFORMANCE])


class RunsConfig(Strict):
    """One retrain per model at a time: the run lease and how long a second retrain waits."""

    lease_seconds: float = Field(default=120.0, ge=1, description="lease lapses this long after its holder dies")
    wait_seconds: float = Field(default=0.0, ge=0, description="0 = a second retrain exits 11 at once")

    @property
    def lease_ttl(self) -> float:
        """``RETRAIN_LEASE_SECONDS`` overrides the config (tests and operators shorten it)."""
        return float(os.environ.get("RETRAIN_LEASE_SECONDS") or self.lease_seconds)


class ComputeConfig(Strict):
    """Threads training and scoring may use (1 keeps a shared machine responsive), and a search's workers."""

    threads: int = Field(default=1, ge=1, description="OpenMP/BLAS threads for fit and predict")
    workers: int | None = Field(
        default=None, ge=1, description="Dask workers of a search's local cluster; None = cores // threads"
    )

    @property
    def search_workers(self) -> int:
        """Workers of the local cluster: every worker fits with ``threads`` threads, one trial at a time."""
        return self.workers or max(1, (os.cpu_count() or 1) // self.threads)


class ScheduleConfig(Strict):
    interval_hours: float = Field(default=72.0, gt=0)
    anchor: str = "2026-01-01T00:00:00+00:00"
    drift_check_interval_hours: float = Field(default=24.0, gt=0)

    @field_validator("anchor")
    @classmethod
    def _iso(cls, v: str) -> str:
        try:
            datetime.fromisoformat(v)
        except (TypeError, ValueError):
            raise ValueError("expected an ISO 8601 date and time such as 2026-01-01T00:00:00+00:00") from None
        return v
