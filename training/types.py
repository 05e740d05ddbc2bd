"""Small typed results of the training package.

They travel between Prefect tasks, into MLflow tags and into JSON artifacts, so each one
has a ``to_dict()`` that is plain JSON: numpy scalars become Python numbers, NaN becomes
``null`` and floats are rounded so reports stay readable.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

FLOAT_DIGITS = 6


def to_jsonable(value: Any) -> Any:
    """Convert nested results to JSON-safe values (rounded floats, no NaN, no numpy types)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return value.to_dict() if hasattr(value, "to_dict") else to_jsonable(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return round(number, FLOAT_DIGITS) if math.isfinite(number) else None
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if value is None or isinstance(value, str):
        return value
    return str(value)


@dataclass(frozen=True, eq=False)
class Split:
    """A time split: train on the past, judge on the most recent ``holdout_days``."""

    train: pd.DataFrame
    holdout: pd.DataFrame
    train_start: str
    train_end: str
    holdout_start: str
    holdout_end: str
    train_rows: int
    holdout_rows: int
    cutoff: str  # rows strictly after this instant are holdout

    def to_dict(self) -> dict:
        keys = ("train_start", "train_end", "holdout_start", "holdout_end", "train_rows", "holdout_rows", "cutoff")
        return to_jsonable({k: getattr(self, k) for k in keys})


@dataclass(frozen=True, eq=False)
class Candidate:
    """A fitted pipeline plus what is needed to log and reproduce it."""

    model: Any
    features: list[str]
    params: dict[str, Any]
    train_rows: int
    estimator: str = ""
    lineage: dict[str, Any] = field(default_factory=dict)  # extra tags, e.g. a cascade's threshold

    def to_dict(self) -> dict:
        keys = ("features", "params", "train_rows", "estimator", "lineage")
        return to_jsonable({k: getattr(self, k) for k in keys})


@dataclass(frozen=True, eq=False)
class Outputs:
    """What a model says about the holdout, in the shape the metrics need.

    ``values``: positive-class probabilities (binary), a probability matrix (multiclass)
    or predictions (regression). ``labels``: the model's classes, None for regression.
    """

    values: np.ndarray
    labels: np.ndarray | None = None


@dataclass(frozen=True)
class OutputCheck:
    """Sanity checks on the candidate's holdout outputs; ``problems`` say value and bounds."""

    passed: bool
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"passed": self.passed, "problems": list(self.problems)}


@dataclass(frozen=True)
class BootstrapResult:
    """Paired bootstrap of (candidate − champion), oriented so positive = candidate better."""

    metric: str
    mean_diff: float
    low: float
    high: float
    confidence: float
    resamples: int
    seed: int
    significant: bool
    observed_diff: float = float("nan")
    used_resamples: int = 0

    def to_dict(self) -> dict:
        return to_jsonable(dataclasses.asdict(self))


class Rule(StrEnum):
    """The gate's rules, in the order they run."""

    FLOOR = "floor"
    OUTPUT_CHECKS = "output checks"
    NO_CHAMPION = "no champion"
    CHAMPION_SCORES = "champion scores"
    COMPARISON = "comparison"
    MAX_REGRESSION = "max regression"
    MIN_IMPROVEMENT = "min improvement"
    BOOTSTRAP = "bootstrap"
    SLICES = "slices"


@dataclass(frozen=True)
class RuleResult:
    """One rule's outcome; ``value`` is what was measured and ``limit`` what it was held to."""

    rule: Rule
    passed: bool | None
    sentence: str
    value: float | None = None
    limit: float | None = None

    @property
    def mark(self) -> str:
        return "info" if self.passed is None else "pass" if self.passed else "fail"

    @property
    def failed(self) -> bool:
        return self.passed is False

    def render(self) -> str:
        """The line people read: ``pass: floor: candidate roc_auc 0.9100 must be at least 0.6000``."""
        return f"{self.mark}: {self.sentence}"

    def to_dict(self) -> dict:
        return {
            "rule": str(self.rule),
            "passed": self.passed,
            "sentence": self.sentence,
            "value": self.value,
            "limit": self.limit,
        }


@dataclass(frozen=True)
class Decision:
    """The gate's verdict with one typed result per rule; ``reasons`` renders them for people."""

    promote: bool
    rules: list[RuleResult]
    metric: str
    candidate_score: float
    champion_score: float | None
    champion_version: str | None
    bootstrap: BootstrapResult | None
    output_check: OutputCheck
    candidate_metrics: dict[str, float]
    champion_metrics: dict[str, float] | None
    champion_below_floor: bool = False  # the champion fails the floor on this holdout too
    slices: list[Any] = dataclasses.field(default_factory=list)  # ``training.slices.SliceResult`` per slice

    @property
    def reasons(self) -> list[str]:
        """One line per rule, ``pass: …``, ``fail: …`` or ``info: …``."""
        return [rule.render() for rule in self.rules]

    def to_dict(self) -> dict:
        """Plain JSON with the rules as their rendered ``reasons``, the shape stored and reported."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return to_jsonable(
            {("reasons" if k == "rules" else k): (self.reasons if k == "rules" else v) for k, v in fields.items()}
        )
