"""The training sections of a model's settings: data, estimator, split window, suite, gate, output checks."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from base.settings_checks import Strict, ordered

Task = Literal["binary", "multiclass", "regression"]

PRIMARY_METRIC = {"binary": "roc_auc", "multiclass": "macro_f1", "regression": "rmse"}
METRIC_NAMES = {
    "binary": ["roc_auc", "f1", "log_loss"],
    "multiclass": ["macro_f1", "accuracy"],
    "regression": ["mae", "rmse", "r2"],
}
LOWER_IS_BETTER = {"log_loss", "mae", "rmse"}


class SqlSourceConfig(Strict):
    """A table (or query) that grows over time: each closed time slice after the last taken is a batch."""

    url: str = Field(description="SQLAlchemy URL; the password comes from the driver's environment (PGPASSWORD)")
    table: str | None = Field(default=None, description="table (schema.table allowed) holding the rows")
    query: str | None = Field(default=None, description="a SELECT whose rows are the source, instead of a table")
    batch_every: Literal["hour", "day", "week", "month"] = "day"
    chunk_rows: int = Field(default=50_000, gt=0, description="rows read at a time: a slice never sits in memory")

    @field_validator("url")
    @classmethod
    def _no_password(cls, v: str) -> str:
        from urllib.parse import urlsplit

        if urlsplit(v).password:
            raise ValueError(
                "the URL carries a password: keep it out of the config and give it the driver's standard way "
                "(PGPASSWORD or ~/.pgpass for PostgreSQL)"
            )
        return v

    @model_validator(mode="after")
    def _one_source(self) -> "SqlSourceConfig":
        if (self.table is None) == (self.query is None):
            raise ValueError("name exactly one of table or query")
        return self


class DataConfig(Strict):
    """Where batches come from: each file matching ``path`` is one batch, or the slices of ``sql``."""

    path: str | None = Field(
        default=None, description="glob of CSV or Parquet files, relative to the config file, or a URL glob"
    )
    sql: SqlSourceConfig | None = Field(default=None, description="a SQL table or query instead of files")
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

    @model_validator(mode="after")
    def _one_place(self) -> "DataConfig":
        if (self.path is None) == (self.sql is None):
            raise ValueError("name exactly one source: path (files) or sql (a table or query)")
        return self


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


class ShadowGateConfig(Strict):
    """A candidate that passed the gate waits as challenger, scored in the shadows, until live labels decide."""

    batches: int = Field(default=3, ge=1, description="labelled shadowed batches before live labels decide")


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
    promote_after_shadow: ShadowGateConfig | None = Field(
        default=None, description="wait as challenger until it beats the champion on live labels (serving.shadow)"
    )


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
