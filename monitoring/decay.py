"""Performance decay: when a batch carries labels, is the champion still as good as promised?

The baseline is the metric value the champion was promoted with (its holdout score), so the
question is "has it lost more than ``drift.performance_tolerance`` since we trusted it", not
"is it worse than some other model". The drop is oriented so that positive means worse for
every metric (for losses such as RMSE a rise is a drop).

Scoring goes through ``training.metrics`` so the gate and this check compute a metric the
same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from base.vocabulary import Signal
from monitoring.drift_types import DecayReport, DriftInputError, DriftReport


def check_decay(
    task: str,
    champion_model: Any,
    batch: pd.DataFrame,
    features: list[str],
    target: str,
    promoted_metric_value: float,
    metric: str,
    tolerance: float,
) -> DecayReport:
    """Score the champion on the batch's labelled rows and compare with its promotion score.

    Rows without a label are ignored; a batch without any labelled row, or whose labels
    cannot be scored (one class only for ROC AUC), is reported as not checked, not degraded.
    Raises ``DriftInputError`` when feature columns are missing.
    """
    higher = metric_higher_is_better(metric)
    labelled = batch[batch[target].notna()] if target in batch.columns else batch.iloc[0:0]

    def unchecked(reason: str) -> DecayReport:
        return DecayReport(metric, promoted_metric_value, None, None, tolerance, False, len(labelled), higher, reason)

    if labelled.empty:
        return unchecked(f"batch carries no labels in column {target!r}")
    missing = [c for c in features if c not in labelled.columns]
    if missing:
        raise DriftInputError(f"the batch lacks feature columns: {', '.join(missing)}", missing)
    try:
        current = score_metric(task, champion_model, labelled[features], labelled[target], metric)
    except ValueError as exc:
        return unchecked(f"cannot compute {metric} on this batch: {exc}")
    drop = promoted_metric_value - current if higher else current - promoted_metric_value
    return DecayReport(metric, promoted_metric_value, current, drop, tolerance, drop > tolerance, len(labelled), higher)


def metric_higher_is_better(metric: str) -> bool:
    from training.metrics import higher_is_better

    return bool(higher_is_better(metric))


def score_metric(task: str, model: Any, X: pd.DataFrame, y: pd.Series, metric: str) -> float:
    """One metric of ``model`` on ``(X, y)``, computed as the gate computes it; raises
    ValueError when it is undefined on these rows (one class only for ROC AUC)."""
    from training.metrics import score

    values = score(task, model, X, y)
    if metric not in values:
        raise ValueError(f"metric {metric!r} is not computed for task {task!r}")
    value = float(values[metric])
    if not np.isfinite(value):
        raise ValueError(f"{metric} is not finite ({value})")
    return value


def find_signals(drift: DriftReport | None, decay: DecayReport | None) -> list[Signal]:
    """Every finding: drift when the dataset verdict is drift, performance when the champion degraded."""
    found = []
    if drift is not None and drift.drifted:
        found.append(Signal.DRIFT)
    if decay is not None and decay.degraded:
        found.append(Signal.PERFORMANCE)
    return found


def decide_signals(drift: DriftReport | None, decay: DecayReport | None, triggers: list[Signal]) -> list[Signal]:
    """The findings that start a retrain: those the policy (``drift.triggers``) lists.

    The CLI exits non-zero and the flow starts a retrain when this list is not empty.
    """
    return [signal for signal in find_signals(drift, decay) if signal in triggers]
