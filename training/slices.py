"""The sliced gate: a candidate must not be significantly worse than the champion on any slice.

One overall number hides the failure that matters most to the people a model serves: a
candidate better on average and much worse for one carrier, region or customer segment.
So, for every value of each ``gate.slices`` column with at least ``gate.min_slice_rows``
holdout rows, candidate and champion are compared with the same paired bootstrap as the
overall rule, on that slice's rows. Testing many slices finds a "significant" one by
chance, so each slice's interval is widened by Bonferroni: with ``k`` slices tested at
confidence ``c``, each uses ``1 - (1 - c) / k``. A slice fails when its whole interval lies
below zero (positive always means "candidate better", also for loss metrics). Smaller
slices, and slices where the metric is undefined (one class only), are listed as skipped.

A slice column may be any column of the holdout, read or not by the model. Numeric columns
with more than ``MAX_SLICE_VALUES`` distinct values are cut into ``NUMERIC_BINS`` quantile
bins, so a slice is a group of rows a person can name.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from training.bootstrap import paired_bootstrap
from training.data import DataError
from training.types import Outputs, Rule, RuleResult

if TYPE_CHECKING:
    from base.settings import ModelConfig

MAX_SLICE_VALUES = 20
NUMERIC_BINS = 4
MISSING = "(missing)"


@dataclass(frozen=True)
class SliceResult:
    """One slice: its rows, both scores, the interval of candidate − champion, and the verdict."""

    column: str
    value: str
    rows: int
    verdict: str  # "worse", "ok" or "skipped"
    candidate: float | None = None
    champion: float | None = None
    diff: float | None = None
    low: float | None = None
    high: float | None = None
    note: str = ""

    def label(self) -> str:
        return f"{self.column}={self.value}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def slice_groups(rows: pd.DataFrame, column: str, config: "ModelConfig") -> dict[str, np.ndarray]:
    """Row positions per slice value of ``column`` (quantile bins for a many-valued number)."""
    if column not in rows.columns:
        known = ", ".join(map(str, rows.columns))
        raise DataError(
            config.data_glob, f"gate.slices names {column!r}, which is not a column of the holdout (columns: {known})"
        )
    values = rows[column]
    if pd.api.types.is_numeric_dtype(values) and values.nunique() > MAX_SLICE_VALUES:
        values = pd.qcut(values, NUMERIC_BINS, duplicates="drop").astype(str)
    labels = values.astype(object).where(values.notna(), MISSING).astype(str).to_numpy()
    return {value: np.flatnonzero(labels == value) for value in sorted(set(labels))}


def judge_slices(
    task: str, y: np.ndarray, rows: pd.DataFrame, candidate: Outputs, champion: Outputs, config: "ModelConfig"
) -> list[SliceResult]:
    """Every slice of every ``gate.slices`` column, judged at a Bonferroni-corrected confidence."""
    gate = config.gate
    groups = [(c, v, idx) for c in gate.slices for v, idx in slice_groups(rows, c, config).items()]
    tested = [g for g in groups if len(g[2]) >= gate.min_slice_rows]
    confidence = 1.0 - (1.0 - gate.bootstrap.confidence) / max(len(tested), 1)
    results = []
    for column, value, idx in groups:
        if len(idx) < gate.min_slice_rows:
            results.append(
                SliceResult(column, value, len(idx), "skipped", note=f"fewer than {gate.min_slice_rows} rows")
            )
            continue
        boot = paired_bootstrap(
            task,
            config.primary_metric,
            y[idx],
            _take(candidate, idx),
            _take(champion, idx),
            gate.bootstrap.resamples,
            confidence,
            gate.bootstrap.seed,
        )
        scores = _scores(task, config.primary_metric, y[idx], _take(candidate, idx), _take(champion, idx))
        results.append(_judged(column, value, len(idx), boot, confidence, scores))
    return results


def _scores(task: str, metric: str, y: np.ndarray, candidate: Outputs, champion: Outputs) -> tuple[float, float]:
    from training.metrics import encode, weighted_metric

    y_enc, (cand, champ) = encode(task, y, [candidate, champion])
    return weighted_metric(task, metric, y_enc, cand), weighted_metric(task, metric, y_enc, champ)


def _judged(column: str, value: str, n: int, boot: Any, confidence: float, scores: tuple[float, float]) -> SliceResult:
    if not (np.isfinite(boot.low) and np.isfinite(boot.high) and np.isfinite(boot.observed_diff)):
        return SliceResult(column, value, n, "skipped", note=f"{boot.metric} undefined on this slice (one class?)")
    verdict = "worse" if boot.high < 0 else "ok"
    note = f"{confidence:.2%} interval (Bonferroni)"
    return SliceResult(
        column,
        value,
        n,
        verdict,
        float(scores[0]),
        float(scores[1]),
        float(boot.observed_diff),
        float(boot.low),
        float(boot.high),
        note,
    )


def _take(outputs: Outputs, idx: np.ndarray) -> Outputs:
    return Outputs(values=np.asarray(outputs.values)[idx], labels=outputs.labels)


def judge_slice_rule(results: list[SliceResult], min_rows: int) -> RuleResult:
    """The gate's rule for the slices: the worst failing slice first, then the counts."""
    judged = [r for r in results if r.verdict != "skipped"]
    worse = sorted((r for r in results if r.verdict == "worse"), key=lambda r: (r.diff or 0.0, r.label()))
    skipped = len(results) - len(judged)
    tail = f"{len(judged)} slice(s) of at least {min_rows} rows compared" + (f", {skipped} skipped" if skipped else "")
    if not worse:
        return RuleResult(Rule.SLICES, True, f"slices: no slice significantly worse; {tail}")
    first = worse[0]
    sentence = (
        f"slices: {first.label()}: candidate significantly worse ({first.diff:+.4f} "
        f"[{first.low:+.4f}, {first.high:+.4f}], n={first.rows}); {len(worse)} of {tail}"
    )
    return RuleResult(Rule.SLICES, False, sentence, first.diff, 0.0)
