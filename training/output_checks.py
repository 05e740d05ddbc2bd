"""Sanity checks on a model's outputs: NaN, degenerate rates, impossible values.

The gate runs them on the candidate's holdout outputs before any metric is trusted;
scoring runs them on live predictions. Rates are judged beyond sampling noise
(``training.shares``), so a few rows cannot fail a rule by chance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from training.metrics import predict_outputs
from training.shares import judge_between
from training.types import OutputCheck, Outputs

if TYPE_CHECKING:
    from base.settings import ConstraintsConfig

DECISION_THRESHOLD = 0.5


def check_outputs(task: str, model: Any, X: pd.DataFrame, constraints: "ConstraintsConfig") -> OutputCheck:
    """Predict on X and check the outputs against the configured constraints."""
    return check_predicted(task, predict_outputs(task, model, X), constraints)


def check_predicted(task: str, outputs: Outputs, constraints: "ConstraintsConfig") -> OutputCheck:
    """Catch broken models before metrics do: NaN, degenerate rates, impossible values."""
    values = np.asarray(outputs.values, dtype=float)
    if len(values) == 0:
        return OutputCheck(False, ["no rows to check"])
    # a multiclass row is usable only if its whole probability vector is finite
    finite = np.isfinite(values) if values.ndim == 1 else np.isfinite(values).all(axis=1)
    problems = []
    if not constraints.allow_nan and not finite.all():
        problems.append(f"{int((~finite).sum())} of {len(finite)} predictions are NaN or infinite (allowed: none)")
    if finite.any():
        problems += _range_problems(task, outputs.labels, values[finite], constraints)
    return OutputCheck(passed=not problems, problems=problems)


def _range_problems(task: str, labels: np.ndarray | None, kept: np.ndarray, constraints) -> list[str]:
    """Constraints for other tasks are ignored; ``kept`` holds only the finite outputs."""
    problems = []
    if task == "binary" and constraints.positive_rate is not None:
        positives = int(np.sum(kept >= DECISION_THRESHOLD))
        problems += _outside("predicted positive rate (at 0.5)", positives, len(kept), constraints.positive_rate)
    if task == "multiclass" and constraints.class_shares is not None:
        predicted = np.asarray(labels)[np.argmax(kept, axis=1)].astype(str)
        for label, bounds in constraints.class_shares.items():
            count = int(np.sum(predicted == str(label)))
            problems += _outside(f"predicted share of class {label!r}", count, len(kept), bounds)
    if task == "regression" and constraints.prediction_range is not None:
        low, high = constraints.prediction_range
        outside = int(np.sum((kept < low) | (kept > high)))
        if outside:
            problems.append(
                f"{outside} of {len(kept)} predictions fall outside the allowed range [{low:g}, {high:g}] "
                f"(observed min {kept.min():.4g}, max {kept.max():.4g})"
            )
    return problems


def _outside(what: str, count: int, rows: int, bounds: tuple[float, float]) -> list[str]:
    """A rate outside its bounds beyond sampling noise (``training.shares``); not judged on a few rows."""
    verdict = judge_between(count, rows, bounds[0], bounds[1], what)
    return [verdict.note] if verdict.failed else []
