"""Metrics: the fast weighted versions must agree with scikit-learn's definitions."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.linear_model import LinearRegression, LogisticRegression

from base.settings import METRIC_NAMES, PRIMARY_METRIC
from training.metrics import (
    encode,
    higher_is_better,
    metric_from_outputs,
    metric_names,
    predict_outputs,
    score,
    weighted_metric,
)
from training.types import Outputs

RNG = np.random.default_rng(3)
N = 400


def binary_case():
    y = RNG.integers(0, 2, N)
    p = np.clip(0.3 * y + RNG.uniform(0.05, 0.7, N), 0.01, 0.99).round(2)  # rounding creates ties
    return y, p


def test_names_and_orientation_follow_config():
    for task, names in METRIC_NAMES.items():
        assert metric_names(task) == names
        assert PRIMARY_METRIC[task] in metric_names(task)
    assert higher_is_better("roc_auc") and higher_is_better("r2") and higher_is_better("macro_f1")
    assert not higher_is_better("log_loss") and not higher_is_better("rmse") and not higher_is_better("mae")


def test_binary_metrics_match_sklearn():
    y, p = binary_case()
    out = Outputs(p, np.array([0, 1]))
    assert metric_from_outputs("binary", "roc_auc", y, out) == pytest.approx(skm.roc_auc_score(y, p), abs=1e-12)
    assert metric_from_outputs("binary", "f1", y, out) == pytest.approx(skm.f1_score(y, p >= 0.5), abs=1e-12)
    assert metric_from_outputs("binary", "log_loss", y, out) == pytest.approx(skm.log_loss(y, p), abs=1e-9)


def test_binary_string_labels_use_the_positive_class():
    y, p = binary_case()
    labels = np.where(y == 1, "late", "early")
    out = Outputs(p, np.array(["early", "late"]))
    assert metric_from_outputs("binary", "roc_auc", labels, out) == pytest.approx(skm.roc_auc_score(y, p))
    flipped = Outputs(1 - p, np.array(["late", "early"]))
    assert metric_from_outputs("binary", "roc_auc", labels, flipped) == pytest.approx(skm.roc_auc_score(y, p))


def test_roc_auc_undefined_with_one_class():
    out = Outputs(np.linspace(0, 1, 10), np.array([0, 1]))
    assert np.isnan(metric_from_outputs("binary", "roc_auc", np.ones(10), out))


def test_multiclass_metrics_match_sklearn_including_unpredicted_labels():
    y = RNG.choice(["a", "b", "c", "d"], N)
    proba = RNG.dirichlet([1, 1, 1], N)  # the model never predicts "d"
    proba[y == "a", 0] += 0.5
    out = Outputs(proba, np.array(["a", "b", "c"]))
    pred = np.array(["a", "b", "c"])[proba.argmax(axis=1)]
    assert metric_from_outputs("multiclass", "macro_f1", y, out) == pytest.approx(
        skm.f1_score(y, pred, average="macro", zero_division=0), abs=1e-12
    )
    assert metric_from_outputs("multiclass", "accuracy", y, out) == pytest.approx(skm.accuracy_score(y, pred))


def test_regression_metrics_match_sklearn():
    y = RNG.normal(10, 3, N)
    pred = y + RNG.normal(0, 1, N)
    out = Outputs(pred)
    assert metric_from_outputs("regression", "mae", y, out) == pytest.approx(skm.mean_absolute_error(y, pred))
    assert metric_from_outputs("regression", "rmse", y, out) == pytest.approx(skm.root_mean_squared_error(y, pred))
    assert metric_from_outputs("regression", "r2", y, out) == pytest.approx(skm.r2_score(y, pred))
    assert metric_from_outputs("regression", "r2", np.full(5, 2.0), Outputs(np.full(5, 2.0))) == 1.0


@pytest.mark.parametrize("task, metric", [(t, m) for t, ms in METRIC_NAMES.items() for m in ms])
def test_weights_equal_repeating_rows(task, metric):
    """Bootstrap weights must mean exactly "this row drawn k times"."""
    if task == "binary":
        y, p = binary_case()
        out = Outputs(p, np.array([0, 1]))
    elif task == "multiclass":
        y = RNG.choice(["a", "b", "c"], N)
        out = Outputs(RNG.dirichlet([1, 1, 1], N), np.array(["a", "b", "c"]))
    else:
        y = RNG.normal(0, 1, N)
        out = Outputs(y + RNG.normal(0, 0.5, N))
    idx = RNG.integers(0, N, N)
    weights = np.bincount(idx, minlength=N)
    y_enc, (o_enc,) = encode(task, y, [out])
    drawn = weighted_metric(task, metric, y_enc[idx], o_enc[idx])
    assert weighted_metric(task, metric, y_enc, o_enc, weights) == pytest.approx(drawn, abs=1e-12)


def test_unknown_metric_is_an_error():
    with pytest.raises(ValueError, match="unknown"):
        metric_from_outputs("regression", "roc_auc", np.zeros(3), Outputs(np.zeros(3)))


def test_predict_outputs_shapes_and_score(frame):
    df = frame("multiclass", n=300)
    X = df[["x1", "x2"]].fillna(0)
    clf = LogisticRegression(max_iter=500).fit(X, df["y"])
    out = predict_outputs("multiclass", clf, X)
    assert out.values.shape == (300, 3) and list(out.labels) == ["high", "low", "mid"]
    scores = score("multiclass", clf, X, df["y"])
    assert set(scores) == set(METRIC_NAMES["multiclass"])
    assert scores["accuracy"] == pytest.approx(skm.accuracy_score(df["y"], clf.predict(X)))

    yb = (df["x1"] > 0).astype(int)
    binary = LogisticRegression().fit(X, yb)
    assert predict_outputs("binary", binary, X).values.shape == (300,)
    reg = LinearRegression().fit(X, df["x1"] * 2)
    assert score("regression", reg, X, df["x1"] * 2)["r2"] == pytest.approx(1.0)


def test_score_skips_rows_without_target(frame):
    df = frame("regression", n=200)
    X = df[["x1"]]
    reg = LinearRegression().fit(X, df["y"])
    y = df["y"].copy()
    y.iloc[:20] = np.nan
    expected = skm.mean_absolute_error(df["y"].iloc[20:], reg.predict(X.iloc[20:]))
    assert score("regression", reg, X, y)["mae"] == pytest.approx(expected)
