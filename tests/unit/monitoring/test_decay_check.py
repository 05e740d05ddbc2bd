"""Performance decay: the champion's metric on a labelled batch vs its promotion score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from monitoring.decay import check_decay, decide_signals, score_metric
from monitoring.drift_types import DriftInputError

FEATURES = ["x1", "x2"]


def make_batch(n: int, seed: int, flip_labels: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    label = (x1 + 0.5 * x2 + rng.normal(scale=0.5, size=n) > 0).astype(int)
    return pd.DataFrame(
        {"x1": x1, "x2": x2, "y": 1 - label if flip_labels else label, "amount": 3 * x1 - x2 + rng.normal(size=n)}
    )


@pytest.fixture(scope="module")
def classifier():
    train = make_batch(2_000, seed=1)
    return LogisticRegression().fit(train[FEATURES], train["y"])


@pytest.fixture(scope="module")
def baseline_auc(classifier):
    holdout = make_batch(1_000, seed=2)
    return score_metric("binary", classifier, holdout[FEATURES], holdout["y"], "roc_auc")


def test_same_distribution_batch_is_not_degraded(classifier, baseline_auc):
    report = check_decay("binary", classifier, make_batch(1_000, seed=3), FEATURES, "y", baseline_auc, "roc_auc", 0.05)
    assert not report.degraded
    assert report.current == pytest.approx(baseline_auc, abs=0.05)
    assert report.rows == 1_000 and report.higher_is_better


def test_label_flipped_batch_is_degraded(classifier, baseline_auc):
    report = check_decay(
        "binary", classifier, make_batch(1_000, seed=4, flip_labels=True), FEATURES, "y", baseline_auc, "roc_auc", 0.05
    )
    assert report.degraded
    assert report.drop == pytest.approx(baseline_auc - report.current)
    assert report.drop > 0.05
    assert "DEGRADED" in report.summary()


def test_loss_metric_rise_counts_as_a_drop():
    train = make_batch(2_000, seed=5)
    model = LinearRegression().fit(train[FEATURES], train["amount"])
    baseline = score_metric("regression", model, train[FEATURES], train["amount"], "rmse")
    shifted = make_batch(1_000, seed=6)
    shifted["amount"] += 3.0
    report = check_decay("regression", model, shifted, FEATURES, "amount", baseline, "rmse", 0.5)
    assert not report.higher_is_better
    assert report.current > baseline
    assert report.drop == pytest.approx(report.current - baseline)
    assert report.degraded


def test_unlabelled_rows_are_ignored_and_no_labels_is_not_a_signal(classifier, baseline_auc):
    batch = make_batch(600, seed=7).astype({"y": "float"})
    batch.loc[:299, "y"] = np.nan
    partly = check_decay("binary", classifier, batch, FEATURES, "y", baseline_auc, "roc_auc", 0.05)
    assert partly.rows == 300 and partly.current is not None
    unlabelled = check_decay(
        "binary", classifier, batch.drop(columns=["y"]), FEATURES, "y", baseline_auc, "roc_auc", 0.05
    )
    assert not unlabelled.degraded and unlabelled.current is None
    assert "no labels" in unlabelled.reason


def test_single_class_batch_is_reported_as_not_checked(classifier, baseline_auc):
    batch = make_batch(500, seed=8)
    batch["y"] = 1
    report = check_decay("binary", classifier, batch, FEATURES, "y", baseline_auc, "roc_auc", 0.05)
    assert not report.degraded and report.current is None
    assert "roc_auc" in report.reason
    assert report.to_dict()["reason"] == report.reason


def test_missing_features_are_named(classifier, baseline_auc):
    with pytest.raises(DriftInputError) as err:
        check_decay(
            "binary",
            classifier,
            make_batch(100, seed=9).drop(columns=["x2"]),
            FEATURES,
            "y",
            baseline_auc,
            "roc_auc",
            0.05,
        )
    assert err.value.columns == ["x2"]


def test_signals_respect_the_configured_triggers(classifier, baseline_auc):
    degraded = check_decay(
        "binary", classifier, make_batch(500, seed=10, flip_labels=True), FEATURES, "y", baseline_auc, "roc_auc", 0.05
    )
    healthy = check_decay("binary", classifier, make_batch(500, seed=11), FEATURES, "y", baseline_auc, "roc_auc", 0.05)
    assert decide_signals(None, degraded, ["drift", "performance"]) == ["performance"]
    assert decide_signals(None, degraded, ["drift"]) == []
    assert decide_signals(None, healthy, ["drift", "performance"]) == []
