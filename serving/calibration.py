"""Per-row confidence, the review threshold, and the rows a scoring run writes.

The threshold is chosen on the holdout at training time (``calibrate_model``, which the
retrain flow calls once the candidate is fitted) and travels with the model version as tags
(``Calibration.to_tags`` / ``from_tags``), so the rows routed to review at scoring time are
the ones the holdout promised: a ``review_rate`` of 10 % sends about 10 % of similar data to
people. Confidence is the class-probability margin for classifiers (``training.confidence``)
and, for regressors, the width of a split-conformal interval whose half-width is the
holdout's residual quantile within the row's prediction bin (a wider interval is a less sure
prediction).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from base.serving_config import ServingConfig, ThresholdMode
from base.vocabulary import Route
from training.confidence import margin_confidence
from training.types import Outputs

TAG_PREFIX = "serving."
ID, PREDICTION, SCORE, CONFIDENCE, VERSION, ROUTE = "id", "prediction", "score", "confidence", "version", "route"
LOW, HIGH, POSITIVE = "interval_low", "interval_high", "positive_label"


@dataclass(frozen=True)
class Calibration:
    """The threshold a version routes by, and what it achieved on the holdout.

    ``edges`` and ``half_widths`` (regression only) are the conformal interval: inner bin
    edges over the predictions and the residual quantile of each bin.
    """

    mode: ThresholdMode
    threshold: float
    holdout_review_rate: float | None = None
    holdout_auto_accuracy: float | None = None
    coverage: float | None = None
    edges: tuple[float, ...] = ()
    half_widths: tuple[float, ...] = ()

    def to_tags(self) -> dict[str, str]:
        """Version tags; the interval goes in one JSON tag (a few hundred characters at most)."""
        values = {k: _exact(v) for k, v in self.__dict__.items()}  # unrounded: the threshold routes rows
        tags = {f"{TAG_PREFIX}{k}": json.dumps(v) for k, v in values.items() if k not in ("edges", "half_widths")}
        if self.half_widths:
            tags[f"{TAG_PREFIX}interval"] = json.dumps({"edges": values["edges"], "half_widths": values["half_widths"]})
        return tags

    @classmethod
    def from_tags(cls, tags: dict[str, str]) -> "Calibration | None":
        """The calibration recorded on a version, None for versions registered without one."""
        if f"{TAG_PREFIX}threshold" not in tags:
            return None

        def read(key: str) -> Any:
            return json.loads(tags[f"{TAG_PREFIX}{key}"]) if f"{TAG_PREFIX}{key}" in tags else None

        interval = read("interval") or {}
        return cls(
            mode=ThresholdMode(read("mode")),
            threshold=float(read("threshold")),
            holdout_review_rate=read("holdout_review_rate"),
            holdout_auto_accuracy=read("holdout_auto_accuracy"),
            coverage=read("coverage"),
            edges=tuple(interval.get("edges", ())),
            half_widths=tuple(interval.get("half_widths", ())),
        )


def calibrate(task: str, outputs: Outputs, y: Any, serving: ServingConfig) -> Calibration:
    """Choose the threshold on holdout outputs ``outputs`` with true values ``y``."""
    y = np.asarray(y)
    interval: dict[str, Any] = {}
    if task == "regression":
        edges, halves = conformal_interval(outputs.values, y, serving.coverage, serving.interval_bins)
        interval = {"coverage": serving.coverage, "edges": edges, "half_widths": halves}
    draft = Calibration(ThresholdMode.FIXED, serving.fixed, **interval)
    confidence = confidence_of(task, outputs, draft)
    correct = None if task == "regression" else predicted_labels(task, outputs).astype(str) == y.astype(str)
    threshold = choose_threshold(task, confidence, correct, serving)
    review = needs_review(task, confidence, threshold)
    auto_accuracy = None if correct is None or review.all() else float(correct[~review].mean())
    rate = float(review.mean()) if len(review) else None
    return Calibration(serving.threshold, threshold, rate, auto_accuracy, **interval)


def calibrate_model(
    task: str, model: Any, holdout: pd.DataFrame, features: list[str], target: str, serving: ServingConfig
) -> Calibration:
    """The calibration of a fitted model on its holdout's labelled rows (training time)."""
    from training.metrics import predict_outputs

    labelled = holdout[holdout[target].notna()]
    return calibrate(task, predict_outputs(task, model, labelled[features]), labelled[target].to_numpy(), serving)


def choose_threshold(task: str, confidence: np.ndarray, correct: np.ndarray | None, serving: ServingConfig) -> float:
    """Fixed; or the quantile that sends ``review_rate`` to review; or, for ``accuracy``, the
    smallest margin whose rows at or above it reach ``target_accuracy`` (most rows auto-routed)."""
    if serving.threshold is ThresholdMode.FIXED or len(confidence) == 0:
        return float(serving.fixed)
    if serving.threshold is ThresholdMode.REVIEW_RATE:
        if task == "regression":  # review when wider: the narrowest width leaving at most that share wider
            widths = np.unique(confidence)
            wider = len(confidence) - np.searchsorted(np.sort(confidence), widths, side="right")
            return float(widths[np.argmax(wider <= serving.review_rate * len(confidence))])
        return float(np.quantile(confidence, serving.review_rate, method="lower")) if serving.review_rate > 0 else 0.0
    assert correct is not None  # the config refuses the accuracy mode for regression
    order = np.argsort(-confidence, kind="mergesort")
    ranked, hits = confidence[order], correct[order].astype(float)
    accuracy = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    # a cut may only fall between distinct margins: rows with equal margin route together
    last_of_tie = np.append(ranked[1:] != ranked[:-1], True)
    good = np.flatnonzero((accuracy >= serving.target_accuracy) & last_of_tie)
    if len(good) == 0:
        return float(np.nextafter(ranked[0], np.inf))  # nothing reaches the target: everything to review
    return float(ranked[good[-1]])


def conformal_interval(
    predicted: Any, y: np.ndarray, coverage: float, bins: int
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Split-conformal half-widths per prediction bin (finite-sample quantile of |residual|)."""
    predicted = np.asarray(predicted, dtype=float)
    residual = np.abs(y.astype(float) - predicted)
    bins = max(1, min(bins, len(predicted) // 20))  # at least ~20 residuals behind each quantile
    edges = np.unique(np.quantile(predicted, np.linspace(0, 1, bins + 1)[1:-1])) if bins > 1 else np.array([])
    where = np.searchsorted(edges, predicted, side="right")
    halves = []
    for b in range(len(edges) + 1):
        part = residual[where == b]
        n = len(part)
        level = min(1.0, math.ceil((n + 1) * coverage) / n) if n else 1.0
        halves.append(float(np.quantile(part, level, method="higher")) if n else float(residual.max(initial=0.0)))
    return tuple(float(e) for e in edges), tuple(halves)


def confidence_of(task: str, outputs: Outputs, calibration: Calibration) -> np.ndarray:
    """Margin in [0, 1] for classifiers (higher = surer); interval width for regression (lower = surer)."""
    if task != "regression":
        return margin_confidence(outputs)
    return 2.0 * half_widths(outputs.values, calibration)


def half_widths(predicted: Any, calibration: Calibration) -> np.ndarray:
    predicted = np.asarray(predicted, dtype=float)
    if not calibration.half_widths:
        return np.zeros(len(predicted))
    where = np.searchsorted(np.asarray(calibration.edges, dtype=float), predicted, side="right")
    return np.asarray(calibration.half_widths, dtype=float)[where]


def needs_review(task: str, confidence: np.ndarray, threshold: float) -> np.ndarray:
    """Rows a person should see: a margin below the threshold, or an interval wider than it."""
    return confidence > threshold if task == "regression" else confidence < threshold


def predicted_labels(task: str, outputs: Outputs) -> np.ndarray:
    """The prediction a person reads: the label (0.5 cut for binary, as the gate) or the value."""
    values = np.asarray(outputs.values, dtype=float)
    if task == "regression":
        return values
    labels = np.asarray(outputs.labels)
    if task == "binary":
        return np.where(values >= 0.5, labels[1], labels[0])
    return labels[np.argmax(values, axis=1)]


def row_ids(frame: pd.DataFrame, id_column: str | None, columns: list[str] | None = None) -> pd.Series:
    """The configured id column as text, else a hash of the row's values (of ``columns``, default all;
    stable across runs)."""
    from serving.row_hash import hash_rows

    if id_column is not None:
        return frame[id_column].astype(str).reset_index(drop=True)
    return pd.Series([f"{value:016x}" for value in hash_rows(frame, columns).tolist()], dtype=object)


def scored_frame(
    task: str,
    ids: pd.Series,
    outputs: Outputs,
    calibration: Calibration,
    version: str,
    flagged: np.ndarray | None = None,
    reasons: list[str] | None = None,
) -> pd.DataFrame:
    """id, prediction, score (positive-class probability, top probability, or the value),
    confidence, version, route; regression adds the interval, binary the positive label.

    ``flagged`` rows go to review whatever their confidence, ``reasons`` says why (``review_reason``);
    the frame is built once with every column (adding columns afterwards costs more than scoring).
    """
    confidence = confidence_of(task, outputs, calibration)
    review = needs_review(task, confidence, calibration.threshold)
    if flagged is not None:
        review = review | flagged
    values = np.asarray(outputs.values, dtype=float)
    prediction = predicted_labels(task, outputs)
    score = values if values.ndim == 1 else values.max(axis=1)
    columns: dict[str, Any] = {
        ID: ids.to_numpy(),
        PREDICTION: prediction if task == "regression" else prediction.astype(str),
        SCORE: score,
        CONFIDENCE: confidence,
        VERSION: str(version),
        ROUTE: np.where(review, Route.REVIEW.value, Route.AUTO.value),
    }
    if task == "regression":
        half = half_widths(values, calibration)
        columns[LOW], columns[HIGH] = values - half, values + half
    if task == "binary":
        columns[POSITIVE] = str(np.asarray(outputs.labels)[1])
    if reasons is not None:
        columns["review_reason"] = reasons
    return pd.DataFrame(columns)


def _exact(value: Any) -> Any:
    """Plain JSON values without rounding (``to_jsonable`` rounds to six digits)."""
    if isinstance(value, tuple):
        return [float(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value)
    return value
