"""The promotion gate: each rule can block, every rule leaves a reason, loss metrics flip sign."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from training.bootstrap import paired_bootstrap
from training.candidate import train_candidate
from training.gate import decide_promotion
from training.metrics import predict_outputs
from training.output_checks import check_outputs
from training.split import split_by_time


@pytest.fixture
def holdout():
    """Holdout with score columns of known quality: strong ≫ weak; twin_a ≈ twin_b."""
    rng = np.random.default_rng(11)
    n = 800
    y = (rng.random(n) < 0.4).astype(int)
    shared = y + rng.normal(0, 1.0, n)
    return pd.DataFrame(
        {
            "y": y,
            "strong": expit(2 * (y + rng.normal(0, 0.6, n)) - 1),
            "weak": expit(0.8 * (y + rng.normal(0, 2.5, n)) - 0.4),
            "twin_a": expit(shared + rng.normal(0, 0.3, n) - 0.5),
            "twin_b": expit(shared + rng.normal(0, 0.3, n) - 0.5),
        }
    )


@pytest.fixture
def model_on(holdout, score_models):
    classifier, _ = score_models

    def build(column: str):
        return classifier(column).fit(holdout[[column]], holdout["y"])

    return build


def decide(config, holdout, model_on, cand: str, champ: str | None):
    champion = model_on(champ) if champ else None
    return decide_promotion("binary", config, model_on(cand), champion, holdout, [cand], "3" if champ else None)


def verdicts(decision) -> list[str]:
    return [reason.split(":")[0] for reason in decision.reasons]


def test_first_model_needs_only_floor_and_outputs(make_config, holdout, model_on):
    decision = decide(make_config(gate={"floor": 0.6}), holdout, model_on, "weak", None)
    assert decision.promote
    assert decision.champion_score is None and decision.bootstrap is None and decision.champion_metrics is None
    assert verdicts(decision) == ["pass", "pass", "info"]
    assert "no champion" in decision.reasons[-1]
    assert set(decision.candidate_metrics) == {"roc_auc", "f1", "log_loss"}


def test_floor_blocks_even_the_first_model(make_config, holdout, model_on):
    decision = decide(make_config(gate={"floor": 0.99}), holdout, model_on, "strong", None)
    assert not decision.promote
    assert decision.reasons[0].startswith("fail: floor: candidate roc_auc")
    assert "0.9900" in decision.reasons[0]


def test_floor_on_a_loss_metric_is_a_ceiling(make_config, holdout, model_on):
    loose = decide(make_config(gate={"primary_metric": "log_loss", "floor": 5.0}), holdout, model_on, "strong", None)
    tight = decide(make_config(gate={"primary_metric": "log_loss", "floor": 0.01}), holdout, model_on, "strong", None)
    assert loose.promote and "at most" in loose.reasons[0]
    assert not tight.promote and tight.reasons[0].startswith("fail: floor: candidate log_loss")


def test_clearly_better_candidate_is_promoted(make_config, holdout, model_on):
    config = make_config(gate={"bootstrap": {"require_significant": True}})
    decision = decide(config, holdout, model_on, "strong", "weak")
    assert decision.promote, decision.reasons
    assert decision.candidate_score > decision.champion_score
    assert decision.bootstrap.significant and decision.bootstrap.low > 0
    assert decision.champion_version == "3"
    assert all(v in {"pass", "info"} for v in verdicts(decision))


def test_regression_beyond_max_is_rejected(make_config, holdout, model_on):
    strict = decide(make_config(gate={"max_regression": 0.01}), holdout, model_on, "weak", "strong")
    assert not strict.promote
    assert any(r.startswith("fail: max regression") for r in strict.reasons)
    lenient = decide(make_config(gate={"max_regression": 1.0}), holdout, model_on, "weak", "strong")
    assert lenient.promote  # allowed to be worse by up to 1.0 AUC
    assert lenient.bootstrap.high < 0  # ...even though it is clearly worse, which the bootstrap reports


def test_improvement_below_minimum_is_rejected(make_config, holdout, model_on):
    decision = decide(make_config(gate={"min_improvement": 0.5}), holdout, model_on, "strong", "weak")
    assert not decision.promote
    assert any(r.startswith("pass: max regression") for r in decision.reasons)
    assert any(r.startswith("fail: min improvement") for r in decision.reasons)


def test_require_significant_blocks_a_tiny_improvement(make_config, holdout, model_on):
    gate = {"max_regression": 0.05}
    relaxed = decide(make_config(gate=gate), holdout, model_on, "twin_a", "twin_b")
    assert abs(relaxed.candidate_score - relaxed.champion_score) < 0.02
    assert relaxed.bootstrap.low < 0 < relaxed.bootstrap.high  # the difference is noise
    assert relaxed.promote
    assert any(r.startswith("info: bootstrap") for r in relaxed.reasons)
    strict = decide(
        make_config(gate={**gate, "bootstrap": {"require_significant": True}}), holdout, model_on, "twin_a", "twin_b"
    )
    assert not strict.promote
    assert strict.reasons[-1].startswith("fail: bootstrap")


def bootstrap_reason(decision) -> str:
    return next(r for r in decision.reasons if "bootstrap:" in r)


def test_interval_words_say_which_way(make_config, holdout, model_on):
    config = make_config(gate={"max_regression": 1.0})
    better = decide(config, holdout, model_on, "strong", "weak")
    worse = decide(config, holdout, model_on, "weak", "strong")
    same = decide(config, holdout, model_on, "twin_a", "twin_b")
    assert "candidate significantly better" in bootstrap_reason(better)
    assert "candidate significantly worse" in bootstrap_reason(worse)
    assert "not significant" not in bootstrap_reason(worse)
    assert "no significant difference" in bootstrap_reason(same)


def test_floor_reports_the_champion_score(make_config, holdout, model_on):
    both_fail = decide(make_config(gate={"floor": 0.99, "max_regression": 1.0}), holdout, model_on, "weak", "strong")
    floor = both_fail.reasons[0]
    assert floor.startswith("fail: floor: candidate roc_auc")
    assert f"champion v3 scores {both_fail.champion_score:.4f} and fails the floor too" in floor
    assert both_fail.champion_below_floor and both_fail.to_dict()["champion_below_floor"]
    fine = decide(make_config(gate={"floor": 0.6}), holdout, model_on, "strong", "weak")
    assert "champion v3 scores" in fine.reasons[0] and not fine.champion_below_floor
    assert ("meets the floor" in fine.reasons[0]) == (fine.champion_score >= 0.6)


def test_champion_that_cannot_score_blocks_promotion(make_config, holdout, model_on, score_models):
    classifier, _ = score_models
    renamed = holdout[["strong"]].rename(columns={"strong": "old_feature"})
    champion = classifier("old_feature").fit(renamed, holdout["y"])
    decision = decide_promotion("binary", make_config(), model_on("strong"), champion, holdout, ["strong"], "7")
    assert not decision.promote
    assert "champion v7 could not score the holdout" in decision.reasons[-1]
    assert "old_feature" in decision.reasons[-1]


def test_output_constraints_block_promotion(make_config, holdout, model_on):
    config = make_config(constraints={"positive_rate": [0.9, 1.0]})
    decision = decide(config, holdout, model_on, "strong", None)
    assert not decision.promote
    assert not decision.output_check.passed
    problem = decision.output_check.problems[0]
    assert "positive rate" in problem and "[0.9, 1]" in problem
    rate = float((holdout["strong"] >= 0.5).mean())
    assert f"{rate:.4f}" in problem


def test_nan_outputs_fail_unless_allowed(make_config, holdout, model_on):
    broken = holdout.assign(strong=holdout["strong"].where(holdout.index % 10 != 0))
    failing = decide(make_config(), broken, model_on, "strong", None)
    assert not failing.promote
    assert "80 of 800 predictions are NaN" in failing.output_check.problems[0]
    constraints = make_config(constraints={"allow_nan": True}).constraints
    allowed = check_outputs("binary", model_on("strong"), broken[["strong"]], constraints)
    assert allowed.passed


def test_class_shares_and_prediction_range(make_config, frame, score_models):
    from sklearn.linear_model import LogisticRegression

    df = frame("multiclass", n=400)
    X = df[["x1"]]
    clf = LogisticRegression().fit(X, df["y"])
    shares = pd.Series(clf.predict(X)).value_counts(normalize=True)
    ok = make_config("multiclass", constraints={"class_shares": {"mid": [0.0, 1.0]}}).constraints
    bad = make_config("multiclass", constraints={"class_shares": {"mid": [0.0, shares["mid"] / 2]}}).constraints
    assert check_outputs("multiclass", clf, X, ok).passed
    result = check_outputs("multiclass", clf, X, bad)
    assert not result.passed and "class 'mid'" in result.problems[0] and f"{shares['mid']:.4f}" in result.problems[0]

    _, regressor = score_models
    preds = pd.DataFrame({"score": np.linspace(-5, 105, 111)})
    reg = regressor("score").fit(preds, preds["score"])
    bounds = make_config("regression", constraints={"prediction_range": [0, 100]}).constraints
    check = check_outputs("regression", reg, preds, bounds)
    assert not check.passed
    assert "10 of 111 predictions" in check.problems[0]
    assert "min -5" in check.problems[0] and "max 105" in check.problems[0]


def test_bootstrap_is_deterministic_per_seed(holdout, model_on):
    cand, champ = (predict_outputs("binary", model_on(c), holdout[[c]]) for c in ("twin_a", "twin_b"))
    first = paired_bootstrap("binary", "roc_auc", holdout["y"], cand, champ, 200, 0.95, seed=5)
    again = paired_bootstrap("binary", "roc_auc", holdout["y"], cand, champ, 200, 0.95, seed=5)
    other = paired_bootstrap("binary", "roc_auc", holdout["y"], cand, champ, 200, 0.95, seed=6)
    assert first == again
    assert (first.low, first.high) != (other.low, other.high)
    assert first.low <= first.mean_diff <= first.high
    assert first.used_resamples == 200


@pytest.mark.parametrize("metric", ["log_loss", "roc_auc"])
def test_bootstrap_positive_means_candidate_better(holdout, model_on, metric):
    strong, weak = (predict_outputs("binary", model_on(c), holdout[[c]]) for c in ("strong", "weak"))
    better = paired_bootstrap("binary", metric, holdout["y"], strong, weak, 100, 0.9, seed=0)
    worse = paired_bootstrap("binary", metric, holdout["y"], weak, strong, 100, 0.9, seed=0)
    assert better.observed_diff > 0 and better.significant
    assert worse.observed_diff < 0 and not worse.significant
    assert better.mean_diff == pytest.approx(-worse.mean_diff)


def test_bootstrap_skips_single_class_resamples(holdout, model_on):
    tiny = holdout.iloc[:40].assign(y=[1, 1] + [0] * 38)
    cand, champ = (predict_outputs("binary", model_on(c), tiny[[c]]) for c in ("strong", "weak"))
    result = paired_bootstrap("binary", "roc_auc", tiny["y"], cand, champ, 300, 0.95, seed=1)
    assert 0 < result.used_resamples < 300
    assert np.isfinite([result.low, result.high, result.mean_diff]).all()


def test_decision_to_dict_is_json(make_config, holdout, model_on):
    decision = decide(make_config(gate={"floor": 0.5}), holdout, model_on, "strong", "weak")
    data = json.loads(json.dumps(decision.to_dict()))
    assert data["promote"] is True
    assert data["bootstrap"]["resamples"] == 200 and isinstance(data["bootstrap"]["low"], float)
    assert data["output_check"] == {"passed": True, "problems": []}
    assert data["candidate_metrics"]["roc_auc"] == round(decision.candidate_score, 6)
    first = json.loads(json.dumps(decide(make_config(), holdout, model_on, "strong", None).to_dict()))
    assert first["champion_score"] is None and first["bootstrap"] is None


def test_real_pipelines_compare_on_their_own_features(make_config, frame):
    """A champion trained on fewer columns still scores the same holdout rows."""
    df = frame("regression", n=900)
    champ_config = make_config(
        "regression", data={"features": ["x2"]}, estimator={"class_path": "sklearn.linear_model.Ridge"}
    )
    config = make_config("regression", estimator={"class_path": "sklearn.ensemble.HistGradientBoostingRegressor"})
    split = split_by_time(df, config)
    champion = train_candidate(split, champ_config)
    candidate = train_candidate(split, config)
    decision = decide_promotion(
        "regression", config, candidate.model, champion.model, split.holdout, candidate.features, "1"
    )
    assert decision.metric == "rmse"
    assert decision.candidate_score < decision.champion_score  # lower rmse is better
    assert decision.bootstrap.observed_diff == pytest.approx(decision.champion_score - decision.candidate_score)
    assert decision.promote, decision.reasons
