"""Results of the drift and decay checks, as small frozen dataclasses.

The flow, the CLI and the MLflow/Prefect artifacts all read these instead of Evidently's
objects, so an Evidently upgrade changes one adapter and nothing downstream. Every result
has ``to_dict()`` (plain JSON types) and ``summary()`` (one short paragraph for people).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from base.errors import Kind, RetrainError

if TYPE_CHECKING:
    import pandas as pd

ColumnKind = Literal["feature", "prediction"]
ColumnType = Literal["numerical", "categorical"]
ColumnStatus = Literal["drift", "no_drift", "insufficient_data"]
DriftStatus = Literal["drift", "no_drift", "insufficient_data"]


class DriftInputError(RetrainError, ValueError):
    """The frames cannot be compared: the message names the side and the columns at fault."""

    kind = Kind.DATA_INVALID

    def __init__(self, message: str, columns: list[str] | None = None):
        self.columns = list(columns or [])
        super().__init__(message)


@dataclass(frozen=True)
class ColumnDrift:
    """One column's verdict.

    ``score`` is the method's distance (None when a side was all null or too small);
    ``noise`` the distance that sampling alone stays under with probability ``1 - alpha`` at
    the compared sizes; ``floor`` the smallest distance that counts (``drift.min_effect``);
    ``threshold`` the one applied (the higher of the two): ``drifted`` is ``score >= threshold``.
    ``status`` is ``insufficient_data`` when the noise is above the floor and the score
    stayed under it: too small to tell.
    """

    column: str
    kind: ColumnKind
    column_type: ColumnType
    method: str
    score: float | None
    threshold: float | None
    drifted: bool
    status: ColumnStatus = "no_drift"
    noise: float | None = None
    p_value: float | None = None
    reference_values: int = 0
    current_values: int = 0
    floor: float | None = None

    def to_dict(self) -> dict:
        return {
            "column": self.column,
            "kind": self.kind,
            "column_type": self.column_type,
            "method": self.method,
            "status": self.status,
            "score": self.score,
            "threshold": self.threshold,
            "noise": self.noise,
            "floor": self.floor,
            "p_value": self.p_value,
            "drifted": self.drifted,
            "reference_values": self.reference_values,
            "current_values": self.current_values,
        }


@dataclass(frozen=True)
class DriftReport:
    """Per-column verdicts and the dataset verdict (drifted share of columns vs ``threshold``).

    ``status`` is ``insufficient_data`` when no column had ``min_rows`` values on both sides:
    no verdict, neither drift nor its absence. The share counts judged columns only.
    ``compared`` holds the two frames the columns were measured on (for the HTML report the
    drift flow stores); it is left out of ``to_dict()`` and of comparisons.
    """

    columns: tuple[ColumnDrift, ...]
    drifted_columns: tuple[str, ...]
    share: float
    threshold: float
    drifted: bool
    reference_rows: int
    current_rows: int
    reference_sampled_rows: int
    current_sampled_rows: int
    sample_rows: int
    seed: int
    elapsed_s: float
    warnings: tuple[str, ...] = ()
    alpha: float = 0.01
    min_rows: int = 0
    compared: "tuple[pd.DataFrame, pd.DataFrame] | None" = field(default=None, repr=False, compare=False)

    @property
    def status(self) -> DriftStatus:
        """No drift only when even the undecided columns could not have reached the share."""
        if not self.judged_columns:
            return "insufficient_data"
        if self.drifted:
            return "drift"
        undecided = len(self.columns) - len(self.judged_columns)
        reachable = (len(self.drifted_columns) + undecided) / len(self.columns)
        return "insufficient_data" if undecided and reachable >= self.threshold else "no_drift"

    @property
    def judged_columns(self) -> tuple[ColumnDrift, ...]:
        return tuple(c for c in self.columns if c.status != "insufficient_data")

    @property
    def prediction_drifted(self) -> bool:
        return any(c.drifted for c in self.columns if c.kind == "prediction")

    def column(self, name: str) -> ColumnDrift:
        """The verdict for one column, by name."""
        for col in self.columns:
            if col.column == name:
                return col
        raise KeyError(name)

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "drifted": self.drifted,
            "share": self.share,
            "threshold": self.threshold,
            "alpha": self.alpha,
            "min_rows": self.min_rows,
            "drifted_columns": list(self.drifted_columns),
            "prediction_drifted": self.prediction_drifted,
            "columns": [c.to_dict() for c in self.columns],
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "reference_sampled_rows": self.reference_sampled_rows,
            "current_sampled_rows": self.current_sampled_rows,
            "sample_rows": self.sample_rows,
            "seed": self.seed,
            "elapsed_s": self.elapsed_s,
            "warnings": list(self.warnings),
        }

    def summary(self) -> str:
        lines = [self._headline()]
        for col in self.columns:
            if col.drifted:
                score = "all null on one side" if col.score is None else f"{col.score:.3f} >= {col.threshold:.3f}"
                lines.append(f"  {col.column} ({col.kind}): {col.method} {score}")
        lines.extend(f"  warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def _headline(self) -> str:
        compared = (
            f"compared {self.current_sampled_rows} of {self.current_rows} current rows with "
            f"{self.reference_sampled_rows} of {self.reference_rows} reference rows"
        )
        if self.status == "insufficient_data":
            undecided = len(self.columns) - len(self.judged_columns)
            return (
                f"too small to tell: {undecided} of {len(self.columns)} columns could not be judged at this size "
                f"(fewer than {self.min_rows} values, or sampling noise above the smallest shift that counts), "
                f"enough to hide drift; {compared}"
            )
        verdict = "DRIFT" if self.drifted else "no drift"
        return (
            f"{verdict}: {len(self.drifted_columns)} of {len(self.judged_columns)} judged columns drifted "
            f"(share {self.share:.2f}, threshold {self.threshold:.2f}; each column beyond its "
            f"sampling noise at alpha {self.alpha:g}); {compared}"
        )


@dataclass(frozen=True)
class DecayReport:
    """The champion's metric on a labelled batch vs the value it was promoted with.

    ``drop`` is oriented so that positive means worse, whatever the metric's direction;
    ``degraded`` is ``drop > tolerance``. ``current``/``drop`` are None when the batch could
    not be scored, and ``reason`` says why.
    """

    metric: str
    baseline: float
    current: float | None
    drop: float | None
    tolerance: float
    degraded: bool
    rows: int
    higher_is_better: bool
    reason: str | None = None

    def to_dict(self) -> dict:
        return {
            "metric": self.metric,
            "baseline": self.baseline,
            "current": self.current,
            "drop": self.drop,
            "tolerance": self.tolerance,
            "degraded": self.degraded,
            "rows": self.rows,
            "higher_is_better": self.higher_is_better,
            "reason": self.reason,
        }

    def summary(self) -> str:
        if self.current is None:
            return f"decay not checked on {self.metric}: {self.reason}"
        verdict = "DEGRADED" if self.degraded else "ok"
        return (
            f"{verdict}: {self.metric} {self.current:.4f} on {self.rows} labelled rows vs "
            f"{self.baseline:.4f} at promotion (drop {self.drop:+.4f}, tolerance {self.tolerance:.4f})"
        )
