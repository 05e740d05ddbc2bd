"""Task metrics, computed from model outputs with plain numpy.

The gate bootstraps each metric hundreds of times on the holdout, so the metrics are
written once over *weighted* rows: a bootstrap resample is the same rows with
multiplicity weights, and the point estimate is the weight-1 case. Results match
scikit-learn's ``roc_auc_score``, ``f1_score``, ``log_loss``, ``accuracy_score``,
``mean_absolute_error``, ``root_mean_squared_error`` and ``r2_score``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from base.settings import LOWER_IS_BETTER, METRIC_NAMES, PRIMARY_METRIC
from training.types import Outputs

__all__ = [
    "PRIMARY_METRIC",
    "encode",
    "higher_is_better",
    "metric_from_outputs",
    "metric_names",
    "predict_outputs",
    "score",
    "weighted_metric",
]

LOG_LOSS_EPS = 1e-15


def metric_names(task: str) -> list[str]:
    """The metrics reported for ``task``; the first is the default primary metric."""
    return list(METRIC_NAMES[task])


def higher_is_better(metric: str) -> bool:
    return metric not in LOWER_IS_BETTER


def predict_outputs(task: str, model: Any, X: pd.DataFrame) -> Outputs:
    """Positive-class probability (binary), probability matrix (multiclass), predictions."""
    if task == "regression":
        return Outputs(values=np.asarray(model.predict(X), dtype=float))
    proba = np.asarray(model.predict_proba(X), dtype=float)
    labels = np.asarray(model.classes_)
    if task == "binary":
        if len(labels) != 2:
            raise ValueError(f"binary task but the model knows {len(labels)} classes: {labels.tolist()}")
        return Outputs(values=proba[:, 1], labels=labels)
    return Outputs(values=proba, labels=labels)


def score(task: str, model: Any, X: pd.DataFrame, y: pd.Series) -> dict[str, float]:
    """Every metric of ``task`` for ``model`` on (X, y); rows without a target are skipped."""
    known = np.asarray(pd.notna(y))
    X, y = X[known], np.asarray(y)[known]
    outputs = predict_outputs(task, model, X)
    y_enc, out_enc = encode(task, y, [outputs])
    return {m: weighted_metric(task, m, y_enc, out_enc[0]) for m in metric_names(task)}


def metric_from_outputs(task: str, metric: str, y: Any, outputs: Outputs) -> float:
    y_enc, out_enc = encode(task, y, [outputs])
    return weighted_metric(task, metric, y_enc, out_enc[0])


def encode(task: str, y: Any, outputs: list[Outputs]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Put y and each model's outputs into arrays the weighted metrics take.

    binary: y → 0/1 against the positive label, outputs → probabilities.
    multiclass: y and the predicted labels → indices into one shared label list, so two
    models are compared in the same label space. regression: floats.
    """
    y = np.asarray(y)
    if task == "regression":
        return y.astype(float), [np.asarray(o.values, dtype=float) for o in outputs]
    if task == "binary":
        positive = np.asarray(outputs[0].labels)[1]
        return (y == positive).astype(float), [np.asarray(o.values, dtype=float) for o in outputs]
    predicted = [np.asarray(o.labels)[np.argmax(o.values, axis=1)] for o in outputs]
    space = np.unique(np.concatenate([y.astype(object)] + [p.astype(object) for p in predicted]).astype(str))
    y_idx = np.searchsorted(space, y.astype(str))
    return y_idx, [np.searchsorted(space, p.astype(str)) for p in predicted]


def weighted_metric(task: str, metric: str, y: np.ndarray, out: np.ndarray, weights: np.ndarray | None = None) -> float:
    """One metric over encoded arrays; ``weights`` are bootstrap multiplicities."""
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    if w.sum() <= 0:
        return float("nan")
    func = _METRICS.get((task, metric))
    if func is None:
        raise ValueError(f"unknown {task} metric {metric!r}; expected one of {METRIC_NAMES[task]}")
    return float(func(y, out, w))


def _roc_auc(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> float:
    """Mann–Whitney AUC over tied score groups (ties count one half), weighted."""
    order = np.argsort(p, kind="mergesort")
    p_sorted = p[order]
    group = np.concatenate([[0], np.cumsum(p_sorted[1:] != p_sorted[:-1])])
    pos = np.bincount(group, weights=(w * y)[order])
    neg = np.bincount(group, weights=(w * (1 - y))[order])
    n_pos, n_neg = pos.sum(), neg.sum()
    if n_pos <= 0 or n_neg <= 0:
        return float("nan")
    neg_below = np.cumsum(neg) - neg
    return float(np.sum(pos * (neg_below + 0.5 * neg)) / (n_pos * n_neg))


def _f1(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> float:
    pred = p >= 0.5
    tp = np.sum(w * (pred & (y == 1)))
    denom = np.sum(w * pred) + np.sum(w * y)
    return float(2 * tp / denom) if denom > 0 else 0.0


def _log_loss(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> float:
    p = np.clip(p, LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
    losses = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    return float(np.sum(w * losses) / np.sum(w))


def _macro_f1(y: np.ndarray, pred: np.ndarray, w: np.ndarray) -> float:
    """Mean F1 over labels present in y or in the predictions (scikit-learn's label set)."""
    n = int(max(y.max(initial=0), pred.max(initial=0))) + 1
    tp = np.bincount(y, weights=w * (y == pred), minlength=n)
    support = np.bincount(y, weights=w, minlength=n) + np.bincount(pred, weights=w, minlength=n)
    present = support > 0
    return float(np.mean(2 * tp[present] / support[present]))


def _accuracy(y: np.ndarray, pred: np.ndarray, w: np.ndarray) -> float:
    return float(np.sum(w * (y == pred)) / np.sum(w))


def _mae(y: np.ndarray, pred: np.ndarray, w: np.ndarray) -> float:
    return float(np.sum(w * np.abs(y - pred)) / np.sum(w))


def _rmse(y: np.ndarray, pred: np.ndarray, w: np.ndarray) -> float:
    return float(np.sqrt(np.sum(w * (y - pred) ** 2) / np.sum(w)))


def _r2(y: np.ndarray, pred: np.ndarray, w: np.ndarray) -> float:
    """Like scikit-learn's ``force_finite``: a constant target scores 1 if perfect, else 0."""
    residual = np.sum(w * (y - pred) ** 2)
    total = np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2)
    if total == 0:
        return 1.0 if residual == 0 else 0.0
    return float(1 - residual / total)


_METRICS = {
    ("binary", "roc_auc"): _roc_auc,
    ("binary", "f1"): _f1,
    ("binary", "log_loss"): _log_loss,
    ("multiclass", "macro_f1"): _macro_f1,
    ("multiclass", "accuracy"): _accuracy,
    ("regression", "mae"): _mae,
    ("regression", "rmse"): _rmse,
    ("regression", "r2"): _r2,
}
