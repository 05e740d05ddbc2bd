"""Small typed results of a candidate search: trials, folds and the ranked outcome.

They travel to Dask workers and back, into MLflow child runs and tags, and into the gate
report, so they are frozen dataclasses with plain-JSON ``to_dict()``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from training.types import to_jsonable

LABEL_PARAMS = 4  # parameters shown in a trial's one-line label


class TrialStatus(StrEnum):
    COMPLETE = "complete"
    FAILED = "failed"


@dataclass(frozen=True)
class Fold:
    """Row positions of one time-ordered fold on the time-sorted training window: train before valid."""

    number: int
    train_start: int
    train_stop: int
    valid_start: int
    valid_stop: int

    @property
    def train_rows(self) -> int:
        return self.train_stop - self.train_start

    @property
    def valid_rows(self) -> int:
        return self.valid_stop - self.valid_start


@dataclass(frozen=True)
class TrialSpec:
    """One trial: an estimator class and one setting of its parameters."""

    number: int
    candidate: int  # index into the search's candidates (0 = the `estimator` section when included)
    class_path: str
    params: dict[str, Any]
    sampled: tuple[str, ...] = ()  # the parameters the search chose (the rest were fixed in the config)

    @property
    def estimator_name(self) -> str:
        return self.class_path.rpartition(".")[2]

    @property
    def label(self) -> str:
        """``HistGradientBoostingClassifier(learning_rate=0.1, max_iter=100)``: the chosen parameters first."""
        order = sorted(self.params, key=lambda k: (k not in self.sampled, k))
        shown = [f"{k}={_short(self.params[k])}" for k in order[:LABEL_PARAMS]]
        more = ", …" if len(self.params) > LABEL_PARAMS else ""
        return f"{self.estimator_name}({', '.join(shown)}{more})"

    def same_setting(self, other: "TrialSpec") -> bool:
        return self.class_path == other.class_path and self.params == other.params


@dataclass(frozen=True)
class TrialResult:
    """A trial's fold scores (the primary metric) and mean, or why it failed."""

    spec: TrialSpec
    status: TrialStatus
    fold_scores: list[float] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""

    @property
    def mean_score(self) -> float | None:
        finite = [s for s in self.fold_scores if math.isfinite(s)]
        return sum(finite) / len(finite) if finite and self.status is TrialStatus.COMPLETE else None

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(
            {
                "trial": self.spec.number,
                "estimator": self.spec.class_path,
                "label": self.spec.label,
                "params": self.spec.params,
                "status": str(self.status),
                "fold_scores": self.fold_scores,
                "mean_score": self.mean_score,
                "seconds": self.seconds,
                "error": self.error,
            }
        )


@dataclass(frozen=True)
class RankedTrial:
    """A trial and its place: 1 is the winner; failed trials have no rank."""

    rank: int | None
    result: TrialResult

    def to_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, **self.result.to_dict()}


@dataclass(frozen=True)
class SearchResult:
    """Every trial ranked by mean fold score, the winner first; what stopped the search."""

    metric: str
    ranked: list[RankedTrial]
    folds: list[Fold]
    seconds: float
    stopped_by: str  # "trials", "timeout" or "space" (every distinct setting tried)
    workers: int = 1

    @property
    def winner(self) -> TrialResult:
        return self.ranked[0].result

    @property
    def completed(self) -> int:
        return sum(1 for r in self.ranked if r.rank is not None)

    def rank_of(self, number: int) -> int | None:
        return next((r.rank for r in self.ranked if r.result.spec.number == number), None)

    def top(self, n: int) -> list[RankedTrial]:
        return self.ranked[:n]

    def tags(self, default_trial: int | None = 0) -> dict[str, str]:
        """What the registered version records about the search that chose it."""
        winner = self.winner
        tags = {
            "search.trials": str(len(self.ranked)),
            "search.completed": str(self.completed),
            "search.folds": str(len(self.folds)),
            "search.winner": winner.spec.label,
            "search.winner_trial": str(winner.spec.number),
            "search.rank": f"1 of {self.completed}",
            f"search.cv_{self.metric}": f"{winner.mean_score:.6f}" if winner.mean_score is not None else "",
            "search.stopped_by": self.stopped_by,
        }
        default_rank = None if default_trial is None else self.rank_of(default_trial)
        if default_rank is not None:
            tags["search.estimator_rank"] = f"{default_rank} of {self.completed}"
        return tags

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        shown = self.ranked if top is None else self.top(top)
        return to_jsonable(
            {
                "metric": self.metric,
                "trials": len(self.ranked),
                "completed": self.completed,
                "folds": len(self.folds),
                "seconds": self.seconds,
                "stopped_by": self.stopped_by,
                "workers": self.workers,
                "top": [r.to_dict() for r in shown],
            }
        )


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
