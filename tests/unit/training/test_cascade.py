"""The cascade: its threshold keeps the budget, its routing follows the margin, its slice is the past."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from base.settings import ConfigError
from training.candidate import train_candidate
from training.cascade import (
    ALL_HEAVY,
    MAX_THRESHOLDS,
    CascadeModel,
    choose_threshold,
    mix,
    task_score,
    validation_slice,
)
from training.confidence import margin_confidence
from training.split import split_by_time
from training.types import Outputs

LABELS = np.array([0, 1])
CASCADE = {"light": {"class_path": "sklearn.linear_model.LogisticRegression", "features": ["x1"]}}
HEAVY = {"class_path": "sklearn.ensemble.HistGradientBoostingClassifier", "params": {"max_iter": 20}}


def noisy_pair(n: int = 2000, seed: int = 0):
    """Labels, a heavy model right 90 % of the time, a light one that is right when sure."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    heavy = np.where(rng.random(n) < 0.9, np.where(y == 1, 0.8, 0.2), np.where(y == 1, 0.3, 0.7))
    sure = rng.random(n)  # the light model's margin; wrong more often when unsure
    right = rng.random(n) < 0.5 + 0.5 * sure
    light_p = 0.5 + 0.5 * sure * np.where(right == (y == 1), 1, -1)
    return y, Outputs(values=light_p, labels=LABELS), Outputs(values=heavy, labels=LABELS)


@pytest.mark.parametrize("budget", [0.0, 0.005, 0.02, 0.05])
def test_threshold_keeps_the_budget_and_no_lower_one_does(budget):
    y, light, heavy = noisy_pair(n=MAX_THRESHOLDS - 100)  # fewer rows than thresholds: every margin is tried
    choice = choose_threshold("binary", "accuracy", budget, y, light, heavy)
    margins = margin_confidence(light)
    cascade = task_score("binary", "accuracy", y, mix(light, heavy, margins >= choice.threshold))
    assert cascade == pytest.approx(choice.cascade_score)
    assert cascade >= choice.heavy_score - budget - 1e-12
    assert choice.light_share == pytest.approx(np.mean(margins >= choice.threshold))
    lower = np.sort(margins[margins < choice.threshold])[-5:]  # the next thresholds down
    for threshold in lower:
        score = task_score("binary", "accuracy", y, mix(light, heavy, margins >= threshold))
        assert score < choice.heavy_score - budget


def test_a_larger_budget_sends_more_rows_to_the_light_model():
    y, light, heavy = noisy_pair()
    shares = [choose_threshold("binary", "accuracy", b, y, light, heavy).light_share for b in (0.0, 0.01, 0.05, 1.0)]
    assert shares == sorted(shares)
    assert shares[-1] == 1.0  # any loss allowed: the light model answers every row
    assert 0.0 < shares[1] < 1.0


def test_a_loss_metric_budget_is_oriented_and_a_useless_light_model_gets_nothing():
    y, _, heavy = noisy_pair()
    coin = Outputs(values=np.full(len(y), 0.5), labels=LABELS)
    choice = choose_threshold("binary", "log_loss", 0.001, y, coin, heavy)
    assert choice.light_share == 0.0 and choice.cascade_score == pytest.approx(choice.heavy_score)
    auc = choose_threshold("binary", "roc_auc", 0.01, y, *noisy_pair()[1:])
    assert auc.cascade_score >= auc.heavy_score - 0.01


def test_rows_below_the_threshold_and_only_those_reach_the_heavy_model(score_models):
    classifier, _ = score_models
    X = pd.DataFrame({"light": [0.5, 0.95, 0.3, 0.05, 0.6], "heavy": [0.9, 0.1, 0.2, 0.8, 0.4]})
    y = [0, 1, 0, 1, 1]
    seen = []

    class Recording(classifier):
        def predict_proba(self, X):
            seen.append(len(X))
            return super().predict_proba(X)

    light = classifier("light").fit(X, y)
    heavy = Recording("heavy").fit(X, y)
    model = CascadeModel(light, heavy, threshold=0.5).fit()
    # margins 0.0, 0.9, 0.4, 0.9, 0.2 → rows 0, 2 and 4 are hard
    assert model.heavy_rows(X).tolist() == [True, False, True, False, True]
    assert model.shares(X) == pytest.approx({"light": 0.4, "heavy": 0.6})
    seen.clear()
    proba = model.predict_proba(X)
    assert seen == [3]
    assert np.allclose(proba[:, 1], [0.9, 0.95, 0.2, 0.05, 0.4])
    assert model.predict(X).tolist() == [1, 1, 0, 0, 0]
    assert CascadeModel(light, heavy, threshold=0.0).fit().shares(X)["heavy"] == 0.0
    assert CascadeModel(light, heavy, threshold=ALL_HEAVY).fit().shares(X)["light"] == 0.0


def test_components_with_different_classes_are_refused(score_models):
    classifier, _ = score_models
    X = pd.DataFrame({"s": [0.1, 0.9, 0.5]})
    with pytest.raises(ValueError, match="different classes"):
        CascadeModel(classifier("s").fit(X, [0, 1, 1]), classifier("s").fit(X, [1, 2, 2])).fit()


def test_validation_slice_is_the_latest_part_of_the_training_window(make_config, frame):
    config = make_config(cascade={**CASCADE, "validation_fraction": 0.25})
    split = split_by_time(frame(), config)
    fit_part, held = validation_slice(split.train, config)
    assert len(fit_part) + len(held) == len(split.train)
    assert len(held) == pytest.approx(0.25 * len(split.train), abs=2)
    assert fit_part["ts"].max() < held["ts"].min()
    assert held["ts"].max() <= split.train["ts"].max() < split.holdout["ts"].min()


def test_threshold_is_chosen_without_the_holdout(make_config, frame):
    """Scrambling the holdout's labels changes nothing the cascade learns."""
    config = make_config(estimator=HEAVY, cascade=CASCADE)
    split = split_by_time(frame(n=800), config)
    first = train_candidate(split, config)
    scrambled = split.holdout.assign(y=1 - split.holdout["y"])
    again = train_candidate(split.__class__(**{**split.__dict__, "holdout": scrambled}), config)
    assert first.lineage["cascade.threshold"] == again.lineage["cascade.threshold"]
    assert 0.0 < first.lineage["cascade.light_share"] < 1.0  # a real choice, not an edge
    window = first.lineage["cascade.validation_window"].split("..")
    assert pd.Timestamp(window[1]) <= pd.Timestamp(split.train_end) < pd.Timestamp(split.holdout_start)


def test_trained_cascade_records_both_models_and_predicts_like_a_classifier(make_config, frame):
    config = make_config("multiclass", estimator=HEAVY, cascade={**CASCADE, "light": {"features": ["x1", "city"]}})
    split = split_by_time(frame("multiclass", n=800), config)
    candidate = train_candidate(split, config)
    tags, model = candidate.lineage, candidate.model
    assert tags["cascade.heavy"] == HEAVY["class_path"] and tags["cascade.heavy_params"]["max_iter"] == 20
    assert tags["cascade.light"] == "sklearn.linear_model.LogisticRegression"
    assert tags["cascade.light_features"] == "x1,city"
    assert tags["cascade.light_share"] + tags["cascade.heavy_share"] == pytest.approx(1.0)
    assert candidate.params["threshold"] == model.threshold == tags["cascade.threshold"]
    X = split.holdout[candidate.features]
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 3) and np.allclose(proba.sum(axis=1), 1.0)
    assert set(model.predict(X)) <= set(model.classes_) == {"low", "mid", "high"}


@pytest.mark.parametrize(
    "task, cascade, words",
    [
        ("regression", CASCADE, "cascade.light needs a classification task"),
        ("binary", {**CASCADE, "budget_metric": "macro_f1"}, "cascade.budget_metric"),
        ("binary", {**CASCADE, "accuracy_budget": -0.1}, "cascade.accuracy_budget"),
        ("binary", {**CASCADE, "validation_fraction": 1.0}, "cascade.validation_fraction"),
        ("binary", {"light": {"features": ["x9"]}}, "cascade.light.features"),
    ],
)
def test_unusable_cascade_settings_name_their_field(tmp_path, task, cascade, words):
    import yaml

    from base.settings import load_config

    raw = {
        "name": "m",
        "task": task,
        "data": {"path": "b/*.csv", "timestamp_column": "ts", "target_column": "y", "features": ["x1", "x2"]},
        "validation": {"suite": "m.suite.json"},
        "cascade": cascade,
    }
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match=words.replace(".", r"\.")):
        load_config(path)


def test_preflight_checks_the_light_estimator(make_config, tmp_path):
    from monitoring.preflight import _estimator_problem

    assert _estimator_problem(make_config(cascade=CASCADE)) is None
    regressor = make_config(cascade={"light": {"class_path": "sklearn.linear_model.LinearRegression"}})
    field, message = _estimator_problem(regressor)
    assert field == "cascade.light.class_path" and "needs a classifier" in message
    wrong = make_config(cascade={"light": {"params": {"no_such": 1}}})
    assert _estimator_problem(wrong)[0] == "cascade.light.params"


def test_the_example_cascade_config_loads_and_passes_preflight():
    from pathlib import Path

    from base.settings import load_config
    from monitoring.preflight import _estimator_problem, _suite_problem

    example = Path(__file__).resolve().parents[3] / "examples" / "flights-late" / "flights-late-cascade.yaml"
    config = load_config(example)
    assert config.cascade is not None and config.cascade.budget_metric == "accuracy"
    assert _estimator_problem(config) is None and _suite_problem(config) is None


def test_the_fingerprint_tells_a_cascade_from_its_heavy_model(make_config):
    """Turning a cascade on retrains on unchanged data; plain configs keep their old fingerprints."""
    from registry.fingerprint import compute_fingerprint, recipe_of

    plain, cascade = make_config(), make_config(cascade=CASCADE)
    assert "cascade" not in recipe_of(plain, "code")
    assert compute_fingerprint("data", recipe_of(plain, "code")) != compute_fingerprint(
        "data", recipe_of(cascade, "code")
    )
