"""Results of the drift and decay checks, as small frozen dataclasses.

The flow, the CLI and the MLflow/Prefect artifacts all read these instead of Evidently's
objects, so an Evidently upgrade changes one adapter and nothing downstream. Every result
has ``to_dict()`` (plain JSON types) and ``summary()`` (one short paragraph for people).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from base.errors import Kind, RetrainError

ColumnKind = Literal["feature", "prediction"]
ColumnType = Literal["numerical", "categorical"]


class DriftInputError(RetrainError, ValueError):
    """The frames cannot be compared: the message names the side and the columns at fault."""

    kind = Kind.DATA_INVALID

    def __init__(self, message: str, columns: list[str] | None = None):
        self.columns = list(columns or [])
        super().__init__(message)


@dataclass(frozen=True)
class ColumnDrift:
    """One column's verdict. ``score`` is the method's distance; None when a side was all null."""

    column: str
    kind: ColumnKind
    column_type: ColumnType
    method: str
    score: float | None
    threshold: float
    drifted: bool

    def to_dict(self) -> dict:
        return {
            "column": self.column,
            "kind": self.kind,
            "column_type": self.column_type,
            "method": self.method,
            "score": self.score,
            "threshold": self.threshold,
            "drifted": self.drifted,
        }


@dataclass(frozen=True)
class DriftReport:
    """Per-column verdicts and the dataset verdict (drifted share of columns vs ``threshold``).

    ``html`` is Evidently's standalone report for people (several MB); it is left out of
    ``to_dict()`` so JSON output stays small.
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
    html: str | None = field(default=None, repr=False, compare=False)

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
            "drifted": self.drifted,
            "share": self.share,
            "threshold": self.threshold,
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
        verdict = "DRIFT" if self.drifted else "no drift"
        lines = [
            f"{verdict}: {len(self.drifted_columns)} of {len(self.columns)} columns drifted "
            f"(share {self.share:.2f}, threshold {self.threshold:.2f}); "
            f"compared {self.current_sampled_rows} of {self.current_rows} current rows with "
            f"{self.reference_sampled_rows} of {self.reference_rows} reference rows"
        ]
        for col in self.columns:
            if col.drifted:
                score = "all null on one side" if col.score is None else f"{col.score:.3f}"
                lines.append(f"  {col.column} ({col.kind}): {col.method} {score} >= {col.threshold:.2f}")
        lines.extend(f"  warning: {w}" for w in self.warnings)
        return "\n".join(lines)


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
