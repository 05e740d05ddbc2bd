"""The ``cascade`` section: a light model screens every row, the heavy one takes the hard ones.

The heavy model is the config's ``estimator``; this section adds the light one beside it and
says how much the cascade may lose against the heavy model alone. Training picks the margin
threshold on a validation slice cut from the end of the training window (never the holdout,
which the gate keeps for judging the whole cascade against the champion).

Budget units: ``budget_metric`` ``accuracy`` (the default) is the share of correctly
predicted labels, so ``accuracy_budget: 0.005`` allows half a point of accuracy; any other
metric of the task (``roc_auc``, ``f1``, ``log_loss``, ``macro_f1``) is measured in its own
units, oriented so that the cascade may be at most the budget *worse* than the heavy model.
Regression has no class-probability margin, so a cascade is refused for it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

CASCADE_TASKS = ("binary", "multiclass")
ACCURACY = "accuracy"
# metrics the threshold search can hold within the budget, per task (accuracy for both)
BUDGET_METRICS = {"binary": [ACCURACY, "roc_auc", "f1", "log_loss"], "multiclass": [ACCURACY, "macro_f1"]}


class LightEstimatorConfig(BaseModel):
    """The light model: an import path, its parameters and, optionally, fewer columns."""

    model_config = ConfigDict(extra="forbid")

    class_path: str = "sklearn.linear_model.LogisticRegression"
    params: dict[str, Any] = Field(default_factory=dict)
    features: list[str] | None = Field(
        default=None, description="columns the light model reads; None = the heavy model's features"
    )

    @field_validator("class_path")
    @classmethod
    def _dotted(cls, v: str) -> str:
        if "." not in v:
            raise ValueError("expected an import path such as sklearn.linear_model.LogisticRegression")
        return v

    @field_validator("features")
    @classmethod
    def _some(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and not v:
            raise ValueError("expected at least one column, or null for the heavy model's features")
        return v


class CascadeConfig(BaseModel):
    """Light estimator, accuracy budget and the share of the training window that picks the threshold."""

    model_config = ConfigDict(extra="forbid")

    light: LightEstimatorConfig = Field(default_factory=LightEstimatorConfig)
    accuracy_budget: float = Field(
        default=0.005, ge=0.0, lt=1.0, description="most the cascade may lose against the heavy model alone"
    )
    budget_metric: str = Field(default=ACCURACY, description="accuracy, or another metric of the task")
    validation_fraction: float = Field(
        default=0.2, gt=0.0, lt=1.0, description="most recent share of the training window's rows"
    )


def cascade_problem(task: str, cascade: CascadeConfig | None, features: list[str] | None) -> str | None:
    """Why this cascade does not fit the task or the feature list, or None (message names the field)."""
    if cascade is None:
        return None
    if task not in CASCADE_TASKS:
        return (
            f"cascade.light needs a classification task ({', '.join(CASCADE_TASKS)}): the cascade's threshold "
            f"is a class-probability margin and task {task!r} has none; remove the cascade section"
        )
    allowed = BUDGET_METRICS[task]
    if cascade.budget_metric not in allowed:
        return f"cascade.budget_metric {cascade.budget_metric!r} is not a {task} metric; expected one of {allowed}"
    light = cascade.light.features
    if light is not None and features is not None:
        stray = [c for c in light if c not in features]
        if stray:
            return f"cascade.light.features lists columns that are not in data.features: {', '.join(stray)}"
    return None
