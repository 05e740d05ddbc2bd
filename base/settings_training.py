"""The training sections of a model's settings: data, estimator, split window, suite, gate, output checks."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from base.settings_checks import Strict, ordered

Task = Literal["binary", "multiclass", "regression"]

PRIMARY_METRIC = {"binary": "roc_auc", "multiclass": "macro_f1", "regression": "rmse"}
METRIC_NAMES = {
    "binary": ["roc_auc", "f1", "log_loss"],
    "multiclass": ["macro_f1", "accuracy"],
    "regression": ["mae", "rmse", "r2"],
}
LOWER_IS_BETTER = {"log_loss", "mae", "rmse"}


class DataConfig(Strict):
    """Where batches come from: each file matching ``path`` is one batch."""

    path: str = Field(description="glob of CSV or Parquet files, relative to the config file, or a URL glob")
    storage_options: dict[str, Any] = Field(
        default_factory=dict, description="fsspec options of a URL's store (endpoint, region, profile); no secrets"
    )
    timestamp_column: str
    target_column: str
    features: list[str] | None = Field(default=None, description="columns to use; None = all but excluded")
    exclude: list[str] = Field(default_factory=list)
    categorical: list[str] | None = Field(default=None, description="None = infer from dtype")

    @field_validator("storage_options")
    @classmethod
    def _no_secrets(cls, v: dict[str, Any]) -> dict[str, Any]:
        from base.stores import refuse_secrets

        return refuse_secrets(v)


class EstimatorConfig(Strict):
    class_path: str = "sklearn.ensemble.HistGradientBoostingClassifier"
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("class_path")
    @classmethod
    def _dotted(cls, v: str) -> str:
        if "." not in v:
            raise ValueError("expected an import path such as sklearn.linear_model.LogisticRegression")
        return v


class WindowConfig(Strict):
    """Time-based split: the most recent ``holdout_days`` are the fresh holdout."""

    train_days: int | None = Field(default=None, gt=0, description="None = all history before the holdout")
    holdout_days: int = Field(default=30, gt=0)
    min_train_rows: int = Field(default=100, ge=1)
    min_holdout_rows: int = Field(default=50, ge=1)


class ValidationConfig(Strict):
    suite: str = Field(description="GX suite JSON, relative to the config file")
    bounds: dict[str, tuple[float | None, float | None]] = Field(
        default_factory=dict,
        description="declared limits per column, [low, high] with null for an open end; `suite init` makes "
        "each an error rule: a value outside is impossible (a negative count, a share above 100 %)",
    )

    @field_validator("bounds")
    @classmethod
    def _bounds(cls, v: dict[str, tuple[float | None, float | None]]) -> dict[str, tuple[float | None, float | None]]:
        for column, (low, high) in v.items():
            if low is None and high is None:
                raise ValueError(f"column {column!r}: give at least one end of [low, high]")
            if low is not None and high is not None and low > high:
                raise ValueError(f"column {column!r}: expected [low, high] with low <= high")
        return v


class BootstrapConfig(Strict):
    resamples: int = Field(default=500, ge=50)
    confidence: float = Field(default=0.95, gt=0.5, lt=1.0)
    seed: int = 0
    require_significant: bool = False


class GateConfig(Strict):
    """Promotion rules. Differences are in the primary metric's own units, oriented so
    that positive means the candidate is better (the sign is flipped for loss metrics)."""

    primary_metric: str | None = None
    floor: float | None = Field(default=None, description="absolute minimum of the primary metric")
    max_regression: float = Field(default=0.0, ge=0.0)
    min_improvement: float = Field(default=0.0, ge=0.0)
    bootstrap: BootstrapConfig = Field(default_factory=BootstrapConfig)
    slices: list[str] = Field(
        default_factory=list,
        description="columns whose every value must not see the candidate significantly worse than the champion",
    )
    min_slice_rows: int = Field(default=200, ge=1, description="a slice with fewer holdout rows is skipped")


class ConstraintsConfig(Strict):
    """Checks on the candidate's holdout outputs before any promotion."""

    allow_nan: bool = False
    positive_rate: tuple[float, float] | None = None
    class_shares: dict[str, tuple[float, float]] | None = None
    prediction_range: tuple[float, float] | None = None

    @field_validator("positive_rate", "prediction_range")
    @classmethod
    def _low_high(cls, v: tuple[float, float] | None, info: Any) -> tuple[float, float] | None:
        if v is not None:
            ordered(v, rate=info.field_name == "positive_rate")
        return v

    @field_validator("class_shares")
    @classmethod
    def _shares(cls, v: dict[str, tuple[float, float]] | None) -> dict[str, tuple[float, float]] | None:
        for label, share in (v or {}).items():
            ordered(share, rate=True, label=f"class {label!r}: ")
        return v
