"""Live figures: late labels joined to the prediction log, counted per day and version.

Late ground truth (a file of id + label) and reviewers' answers are joined to the logged
rows by row id; a file's label wins over a reviewer's. From the joined rows come, per day and
version, the live metric (computed as the gate computes it), the accuracy, the review rate and
the accuracy of the auto-routed rows. Judging the champion on them is ``serving.feedback``'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from base.vocabulary import Route
from training.label_text import label_text

TRUTH, SOURCE = "truth", "truth_source"


@dataclass(frozen=True)
class DayFigures:
    """One day of one version's scored rows, and how they did once labelled."""

    day: str
    version: str
    rows: int
    labelled: int
    metric: float | None
    accuracy: float | None
    review_rate: float
    auto_accuracy: float | None


def join_truth(log: pd.DataFrame, labels: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
    """The log with ``truth`` (file label, else reviewer's answer) and its ``truth_source``."""
    joined = log.copy()
    joined["id"] = joined["id"].astype(str)
    by_file = labels.set_index("id")[TRUTH] if len(labels) else pd.Series(dtype=object)
    by_review = answers.set_index("id")["label"] if len(answers) else pd.Series(dtype=object)
    joined["answer"] = joined["id"].map(by_review)
    from_file = joined["id"].map(by_file)
    joined[TRUTH] = from_file.where(from_file.notna(), joined["answer"])
    joined[SOURCE] = np.where(from_file.notna(), "label", np.where(joined["answer"].notna(), "review", ""))
    return joined


def day_figures(task: str, metric: str, joined: pd.DataFrame) -> list[DayFigures]:
    """Per day and version: rows, labelled rows, metric, accuracy, review rate, auto accuracy."""
    out = []
    for (day, version), part in joined.groupby(["day", "version"], sort=True):
        known = part[part[TRUTH].notna()]
        auto = known[known["route"] == Route.AUTO]
        out.append(
            DayFigures(
                day=str(day),
                version=str(version),
                rows=len(part),
                labelled=len(known),
                metric=live_metric(task, metric, known),
                accuracy=hit_rate(task, known),
                review_rate=float((part["route"] == Route.REVIEW).mean()),
                auto_accuracy=hit_rate(task, auto),
            )
        )
    return out


def live_metric(task: str, metric: str, known: pd.DataFrame) -> float | None:
    """``metric`` on labelled logged rows, computed as the gate computes it; None when undefined."""
    from training.metrics import weighted_metric

    if known.empty:
        return None
    truth = known[TRUTH]
    if task == "regression":
        y, out = truth.astype(float).to_numpy(), known["prediction"].astype(float).to_numpy()
    elif task == "binary":
        y = (label_text(truth) == label_text(known["positive_label"])).to_numpy().astype(float)
        out = known["score"].astype(float).to_numpy()
    else:
        truth_text, predicted = label_text(truth), label_text(known["prediction"])
        space = np.unique(np.concatenate([truth_text, predicted]))
        y, out = np.searchsorted(space, truth_text), np.searchsorted(space, predicted)
    value = weighted_metric(task, metric, y, out)
    return value if np.isfinite(value) else None


def hit_rate(task: str, known: pd.DataFrame) -> float | None:
    """Share of labelled rows predicted right (classifiers); None for regression or no rows."""
    if task == "regression" or known.empty:
        return None
    return float((label_text(known["prediction"]) == label_text(known[TRUTH])).mean())
