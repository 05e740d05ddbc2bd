"""Gate rules are typed results: code reads rule, verdict and numbers; only people read the lines."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from training.gate import decide_promotion
from training.gate_rules import judge_floor, note_champion_floor
from training.types import Rule, RuleResult


@pytest.fixture
def holdout():
    rng = np.random.default_rng(5)
    y = (rng.random(600) < 0.4).astype(int)
    return pd.DataFrame({"y": y, "good": y + rng.normal(0, 0.7, 600), "poor": y + rng.normal(0, 3.0, 600)})


@pytest.fixture
def model_on(holdout, score_models):
    classifier, _ = score_models
    return lambda column: classifier(column).fit(holdout[[column]], holdout["y"])


def test_rules_carry_their_numbers_and_render_the_familiar_lines(make_config, holdout, model_on):
    config = make_config(gate={"floor": 0.6, "min_improvement": 0.01})
    decision = decide_promotion("binary", config, model_on("good"), model_on("poor"), holdout, ["good"], "2")
    assert [r.rule for r in decision.rules] == [
        Rule.FLOOR,
        Rule.OUTPUT_CHECKS,
        Rule.MAX_REGRESSION,
        Rule.MIN_IMPROVEMENT,
        Rule.BOOTSTRAP,
    ]
    floor, _, regression, improvement, bootstrap = decision.rules
    assert floor.limit == 0.6 and floor.value == pytest.approx(decision.candidate_score)
    assert regression.value == pytest.approx(decision.candidate_score - decision.champion_score)
    assert improvement.limit == 0.01 and bootstrap.passed is None  # significance not required: informs only
    assert decision.reasons == [r.render() for r in decision.rules]
    assert decision.promote == (not any(r.failed for r in decision.rules))


def test_to_dict_keeps_the_reasons_shape(make_config, holdout, model_on):
    decision = decide_promotion("binary", make_config(), model_on("good"), None, holdout, ["good"], None)
    data = json.loads(json.dumps(decision.to_dict()))
    assert "rules" not in data and list(data)[:3] == ["promote", "reasons", "metric"]
    assert data["reasons"] == ["pass: output checks", decision.reasons[-1]]
    assert decision.reasons[-1].startswith("info: no champion")


def test_the_champion_under_the_floor_is_a_flag_not_a_phrase():
    failed = judge_floor("roc_auc", 0.55, 0.6)
    noted, below = note_champion_floor(failed, "roc_auc", 0.58, "4")
    assert below and noted.failed and noted.rule is Rule.FLOOR
    assert noted.render().startswith("fail: floor: candidate roc_auc 0.5500 must be at least 0.6000")
    assert noted.sentence.endswith("champion v4 scores 0.5800 and fails the floor too")
    fine, below = note_champion_floor(judge_floor("roc_auc", 0.7, 0.6), "roc_auc", 0.65, "4")
    assert not below and fine.sentence.endswith("meets the floor")


def test_marks():
    assert RuleResult(Rule.BOOTSTRAP, None, "bootstrap: x").render() == "info: bootstrap: x"
    assert RuleResult(Rule.SLICES, False, "slices: y").render() == "fail: slices: y"
