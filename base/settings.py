"""One typed settings object per model, built at the entry point and passed down.

``ModelConfig`` gathers the sections (``base.settings_training``,
``base.settings_operations``, ``base.settings_state``, ``base.cascade_config``,
``base.serving_config``); ``load_config`` reads one YAML file into it, and every failure
becomes a ``ConfigError`` naming the file, the field and what was expected
(``base.settings_checks``). This module is the one callers import: it re-exports the
sections and the store locations.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from base.cascade_config import CascadeConfig, cascade_problem
from base.paths import NAME_PATTERN, NAME_RULE, home_path
from base.serving_config import ServingConfig, check_serving
from base.settings_checks import ConfigError, Strict, describe_error
from base.settings_notifications import NotificationsConfig
from base.settings_operations import ComputeConfig, DriftConfig, EffectConfig, RunsConfig, ScheduleConfig
from base.settings_search import FoldScheme, SearchCandidate, SearchConfig
from base.settings_state import (
    LOCAL_STATE,
    StateConfig,
    default_ledger_url,
    default_tracking_uri,
    resolve_home,
    serving_state_url,
    store_urls,
)
from base.settings_training import (
    LOWER_IS_BETTER,
    METRIC_NAMES,
    PRIMARY_METRIC,
    BootstrapConfig,
    ConstraintsConfig,
    DataConfig,
    EstimatorConfig,
    GateConfig,
    Task,
    ValidationConfig,
    WindowConfig,
)

__all__ = [
    "LOCAL_STATE",
    "LOWER_IS_BETTER",
    "METRIC_NAMES",
    "PRIMARY_METRIC",
    "BootstrapConfig",
    "ComputeConfig",
    "ConfigError",
    "ConstraintsConfig",
    "DataConfig",
    "DriftConfig",
    "EffectConfig",
    "EstimatorConfig",
    "FoldScheme",
    "GateConfig",
    "ModelConfig",
    "NotificationsConfig",
    "RunsConfig",
    "ScheduleConfig",
    "SearchCandidate",
    "SearchConfig",
    "StateConfig",
    "Task",
    "ValidationConfig",
    "WindowConfig",
    "default_ledger_url",
    "default_tracking_uri",
    "load_config",
    "resolve_home",
    "serving_state_url",
    "store_urls",
]


class ModelConfig(Strict):
    """Everything one registered model needs; loaded once and passed down."""

    name: str = Field(min_length=1)
    task: Task
    data: DataConfig
    estimator: EstimatorConfig = Field(default_factory=EstimatorConfig)
    search: SearchConfig | None = None
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
    notifications: NotificationsConfig = Field(default_factory=NotificationsConfig)
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
        if self.gate.promote_after_shadow is not None and not self.serving.shadow:
            raise ValueError("gate.promote_after_shadow needs serving.shadow: true (the challenger answers live rows)")
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
    def _check_search(self) -> "ModelConfig":
        if self.search is not None and self.cascade is not None:
            raise ValueError("search and cascade cannot be combined: a cascade pairs two fixed estimators")
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
    def serving_url(self) -> str:
        """The serving state's database (``LOCAL_STATE``: files under the home), see ``serving_state_url``."""
        return serving_state_url(self.state.serving_url, self.ledger_url)

    @property
    def prediction_log_url(self) -> str:
        """A configured ``serving.prediction_log`` folder keeps the log in Parquet files there."""
        return LOCAL_STATE if self.serving.prediction_log else self.serving_url

    @property
    def suite_path(self) -> Path:
        return (self.base_dir / self.validation.suite).resolve()

    @property
    def data_glob(self) -> str:
        from base.stores import is_url

        if self.data.sql is not None:
            from base.secrets import redact_url

            sql = self.data.sql
            return f"{redact_url(sql.url)} ({'table ' + sql.table if sql.table else 'query'})"
        assert self.data.path is not None  # DataConfig names exactly one source
        if is_url(self.data.path):
            return self.data.path
        p = Path(self.data.path)
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
        raise ConfigError(path, [describe_error(dict(err)) for err in exc.errors()]) from None
    config.config_path = path.resolve()
    return config
