"""The ``search`` section: several candidates scored by time-ordered cross-validation before the gate.

Absent, a retrain fits the one ``estimator`` as it always did. Present, each trial (an
estimator class and one setting of its parameters) is scored on folds of the training
window, never on the gate's holdout, and the best is refitted on the whole window and gated.
A parameter is either a fixed value or a distribution: ``{low, high}`` (integers when both
ends are, ``log: true`` for a log scale, ``step``) or ``{choices: [...]}``.
"""

from __future__ import annotations

import os
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator

from base.settings_checks import Strict

RANGE_KEYS = {"low", "high", "log", "step"}
ADDRESS_ENV = "RETRAIN_DASK_ADDRESS"


class FoldScheme(StrEnum):
    """Expanding folds train on everything before each validation fold; sliding ones on a fixed span."""

    EXPANDING = "expanding"
    SLIDING = "sliding"


def is_distribution(value: Any) -> bool:
    """``{low, high, ...}`` or ``{choices: [...]}``: a parameter the search samples."""
    if not isinstance(value, dict) or not value:
        return False
    keys = set(value)
    return keys == {"choices"} or ({"low", "high"} <= keys and keys <= RANGE_KEYS)


class SearchCandidate(Strict):
    """One estimator family: its class and its parameters, fixed or sampled."""

    class_path: str
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("class_path")
    @classmethod
    def _dotted(cls, v: str) -> str:
        if "." not in v:
            raise ValueError("expected an import path such as lightgbm.LGBMClassifier")
        return v

    @field_validator("params")
    @classmethod
    def _distributions(cls, v: dict[str, Any]) -> dict[str, Any]:
        for name, value in v.items():
            if not is_distribution(value):
                continue
            if "choices" in value:
                if not isinstance(value["choices"], list) or not value["choices"]:
                    raise ValueError(f"parameter {name!r}: choices must be a non-empty list")
                continue
            low, high = value["low"], value["high"]
            if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (low, high)) or low > high:
                raise ValueError(f"parameter {name!r}: expected numbers with low <= high")
            if value.get("log") and low <= 0:
                raise ValueError(f"parameter {name!r}: a log scale needs low > 0")
        return v


class SearchConfig(Strict):
    """Candidates, the budget and where the trials run."""

    candidates: list[SearchCandidate] = Field(min_length=1)
    include_estimator: bool = Field(
        default=True, description="the `estimator` section is trial 0, so the search can only beat today's recipe"
    )
    trials: int = Field(default=8, ge=1, description="at most this many trials")
    timeout_seconds: float | None = Field(
        default=None, gt=0, description="no new trial starts after this long; running ones finish"
    )
    folds: int = Field(default=3, ge=2, le=20, description="time-ordered validation folds, newest last")
    scheme: FoldScheme = FoldScheme.EXPANDING
    seed: int = 0
    top: int = Field(default=5, ge=1, description="trials shown in the gate report")
    dask_address: str | None = Field(
        default=None, description="an existing Dask scheduler (tcp://host:8786); None = a local cluster"
    )

    @property
    def address(self) -> str | None:
        """``RETRAIN_DASK_ADDRESS`` overrides the config (one cluster for a whole fleet or the demo)."""
        return os.environ.get(ADDRESS_ENV) or self.dask_address

    def recipe(self) -> dict[str, Any]:
        """What changes the winner (not where the trials ran)."""
        return self.model_dump(mode="json", exclude={"dask_address", "top"})
