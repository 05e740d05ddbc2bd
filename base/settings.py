"""One typed settings object per model, built at the entry point and passed down.

A config error must name the file, the field and what was expected, never dump a
raw traceback: users edit these YAML files by hand and need to know where to look.
Environment variables (``RETRAIN_HOME``, ``RETRAIN_TRACKING_URI``,
``RETRAIN_LEDGER_URL``) override the state section so CI and the production
profile can point the same config at other stores.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from base.cascade_config import CascadeConfig, cascade_problem
from base.errors import Kind, RetrainError
from base.paths import NAME_PATTERN, NAME_RULE, home_path
from base.serving_config import ServingConfig, check_serving
from base.vocabulary import Signal

Task = Literal["binary", "multiclass", "regression"]

PRIMARY_METRIC = {"binary": "roc_auc", "multiclass": "macro_f1", "regression": "rmse"}
METRIC_NAMES = {
    "binary": ["roc_auc", "f1", "log_loss"],
    "multiclass": ["macro_f1", "accuracy"],
    "regression": ["mae", "rmse", "r2"],
}
LOWER_IS_BETTER = {"log_loss", "mae", "rmse"}


class ConfigError(RetrainError):
    """A config that cannot be used; ``str()`` says file, field and what was expected."""

    kind = Kind.CONFIG

    def __init__(self, path: str | Path, problems: list[tuple[str, str]]):
        self.path = str(path)
        self.problems = problems
        lines = [f"{self.path}: {field}: {msg}" for field, msg in problems]
        super().__init__(
            "invalid config\n" + "\n".join(lines), file=self.path, field=problems[0][0] if problems else None
        )

    def extra(self) -> dict[str, Any]:
        return {"problems": self.problems}


def _ordered(bounds: tuple[float, float], rate: bool, label: str = "") -> None:
    """Bounds are [low, high]; a rate also lies within [0, 1]."""
    low, high = bounds
    if low > high:
        raise ValueError(f"{label}expected [low, high] with low <= high")
    if rate and not (low >= 0.0 and high <= 1.0):
        raise ValueError(f"{label}expected rates within [0, 1]")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataConfig(_Strict):
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


class EstimatorConfig(_Strict):
    class_path: str = "sklearn.ensemble.HistGradientBoostingClassifier"
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("class_path")
    @classmethod
    def _dotted(cls, v: str) -> str:
        if "." not in v:
            raise ValueError("expected an import path such as sklearn.linear_model.LogisticRegression")
        return v


class WindowConfig(_Strict):
    """Time-based split: the most recent ``holdout_days`` are the fresh holdout."""

    train_days: int | None = Field(default=None, gt=0, description="None = all history before the holdout")
    holdout_days: int = Field(default=30, gt=0)
    min_train_rows: int = Field(default=100, ge=1)
    min_holdout_rows: int = Field(default=50, ge=1)


class ValidationConfig(_Strict):
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


class BootstrapConfig(_Strict):
    resamples: int = Field(default=500, ge=50)
    confidence: float = Field(default=0.95, gt=0.5, lt=1.0)
    seed: int = 0
    require_significant: bool = False


class GateConfig(_Strict):
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


class ConstraintsConfig(_Strict):
    """Checks on the candidate's holdout outputs before any promotion."""

    allow_nan: bool = False
    positive_rate: tuple[float, float] | None = None
    class_shares: dict[str, tuple[float, float]] | None = None
    prediction_range: tuple[float, float] | None = None

    @field_validator("positive_rate", "prediction_range")
    @classmethod
    def _low_high(cls, v: tuple[float, float] | None, info: Any) -> tuple[float, float] | None:
        if v is not None:
            _ordered(v, rate=info.field_name == "positive_rate")
        return v

    @field_validator("class_shares")
    @classmethod
    def _shares(cls, v: dict[str, tuple[float, float]] | None) -> dict[str, tuple[float, float]] | None:
        for label, share in (v or {}).items():
            _ordered(share, rate=True, label=f"class {label!r}: ")
        return v


class StateConfig(_Strict):
    """Where state lives. Defaults: everything under one home folder."""

    home: str | None = None
    tracking_uri: str | None = None
    ledger_url: str | None = None


class EffectConfig(_Strict):
    """Smallest shift worth a retrain, per kind of column, in the distance each is measured with.

    A shift must be both beyond sampling noise and at least this large to count; below the
    batch size where a shift this large could be told from noise, a column is "too small to
    tell". The defaults are Evidently's own thresholds for these distances.
    """

    numerical: float = Field(default=0.1, ge=0.0, description="normed Wasserstein: a 0.1-std move of the mean")
    categorical: float = Field(default=0.1, ge=0.0, description="Jensen-Shannon distance of the category shares")
    prediction: float = Field(default=0.1, ge=0.0, description="the champion's outputs, by their own method")


class DriftConfig(_Strict):
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


class RunsConfig(_Strict):
    """One retrain per model at a time: the run lease and how long a second retrain waits."""

    lease_seconds: float = Field(default=120.0, ge=1, description="lease lapses this long after its holder dies")
    wait_seconds: float = Field(default=0.0, ge=0, description="0 = a second retrain exits 11 at once")

    @property
    def lease_ttl(self) -> float:
        """``RETRAIN_LEASE_SECONDS`` overrides the config (tests and operators shorten it)."""
        return float(os.environ.get("RETRAIN_LEASE_SECONDS") or self.lease_seconds)


class ComputeConfig(_Strict):
    """Threads training and scoring may use; 1 keeps a shared machine responsive."""

    threads: int = Field(default=1, ge=1, description="OpenMP/BLAS threads for fit and predict")


class ScheduleConfig(_Strict):
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


class ModelConfig(_Strict):
    """Everything one registered model needs; loaded once and passed down."""

    name: str = Field(min_length=1)
    task: Task
    data: DataConfig
    estimator: EstimatorConfig = Field(default_factory=EstimatorConfig)
    window: WindowConfig = Field(default_factory=WindowConfig)
    validation: ValidationConfig
    gate: GateConfig = Field(default_factory=GateConfig)
    constraints: ConstraintsConfig = Field(default_factory=ConstraintsConfig)
    state: StateConfig = Field(default_factory=StateConfig)
    drift: DriftConfig = Field(default_factory=DriftConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    runs: RunsConfig = Field(default_factory=RunsConfig)
    compute: ComputeConfig = Field(default_factory=ComputeConfig)
    cascade: CascadeConfig | None = None
    serving: ServingConfig = Field(default_factory=ServingConfig)
    approval: Literal["auto", "manual"] = "auto"
    approval_timeout_hours: float = Field(default=24.0, gt=0)

    # resolved at load time, not read from YAML
    config_path: Path | None = Field(default=None, exclude=True)

    @field_validator("name")
    @classmethod
    def _safe_name(cls, v: str) -> str:
        if not re.fullmatch(NAME_PATTERN, v):
            raise ValueError(f"expected {NAME_RULE} (the name is a registry name and a folder name)")
        return v

    @model_validator(mode="after")
    def _check_metric(self) -> "ModelConfig":
        metric = self.gate.primary_metric
        if metric is not None and metric not in METRIC_NAMES[self.task]:
            raise ValueError(
                f"gate.primary_metric {metric!r} is not a {self.task} metric; expected one of {METRIC_NAMES[self.task]}"
            )
        check_serving(self.task, self.serving)
        return self

    @model_validator(mode="after")
    def _check_slices(self) -> "ModelConfig":
        for column in self.gate.slices:
            if column in (self.data.target_column, self.data.timestamp_column):
                raise ValueError(
                    f"gate.slices {column!r} is the target or timestamp column; slice by a column of the rows"
                )
        return self

    @model_validator(mode="after")
    def _check_cascade(self) -> "ModelConfig":
        problem = cascade_problem(self.task, self.cascade, self.data.features)
        if problem is not None:
            raise ValueError(problem)
        return self

    @property
    def base_dir(self) -> Path:
        return self.config_path.parent if self.config_path else Path.cwd()

    @property
    def primary_metric(self) -> str:
        return self.gate.primary_metric or PRIMARY_METRIC[self.task]

    @property
    def home(self) -> Path:
        return resolve_home(self.state.home)

    @property
    def tracking_uri(self) -> str:
        return os.environ.get("RETRAIN_TRACKING_URI") or self.state.tracking_uri or default_tracking_uri(self.home)

    @property
    def ledger_url(self) -> str:
        return os.environ.get("RETRAIN_LEDGER_URL") or self.state.ledger_url or default_ledger_url(self.home)

    @property
    def suite_path(self) -> Path:
        return (self.base_dir / self.validation.suite).resolve()

    @property
    def data_glob(self) -> str:
        from base.stores import is_url

        p = Path(self.data.path)
        if is_url(self.data.path):
            return self.data.path
        return str(p if p.is_absolute() else self.base_dir / p)

    @property
    def quarantine_dir(self) -> Path:
        return home_path(self.home, "quarantine", self.name)

    @property
    def validated_dir(self) -> Path:
        return home_path(self.home, "validated", self.name)

    @property
    def artifact_dir(self) -> Path:
        return home_path(self.home, "artifacts", self.name)


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


def load_config(path: str | Path) -> ModelConfig:
    """Read and validate one model's YAML; every failure becomes a ConfigError."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(path, [("(file)", "no such file")])
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(yaml)"
        raise ConfigError(path, [(where, f"not valid YAML: {getattr(exc, 'problem', exc)}")]) from None
    if not isinstance(raw, dict):
        raise ConfigError(path, [("(top level)", "expected a mapping of settings")])
    try:
        config = ModelConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(path, [_describe(dict(err)) for err in exc.errors()]) from None
    config.config_path = path.resolve()
    return config


def _describe(err: dict) -> tuple[str, str]:
    field = ".".join(str(p) for p in err["loc"]) or "(top level)"
    msg = err["msg"].removeprefix("Value error, ")
    named = re.match(r"([a-z_]+(?:\.[a-z_]+)+) ", msg)  # a check across sections names its field first
    if not err["loc"] and named:
        field = named.group(1)
    if err["type"] == "extra_forbidden":
        msg = "unknown setting (check the spelling against examples/flights-late/flights-late.yaml)"
    elif err["type"] == "missing":
        msg = "required setting is missing"
    elif "input" in err and not isinstance(err["input"], dict):
        msg = f"{msg} (got {err['input']!r})"
    return field, msg
