"""The sliced gate: better on average is not enough when one slice gets significantly worse."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from training.bootstrap import paired_bootstrap
from training.gate import decide_promotion
from training.metrics import predict_outputs

REGIONS = ["north", "south", "east", "west"]


@pytest.fixture
def holdout():
    """The candidate ranks well everywhere but in the north, where it ranks backwards;
    the champion is mediocre everywhere. North is a tenth of the rows."""
    rng = np.random.default_rng(7)
    n = 3000
    region = rng.choice(REGIONS, n, p=[0.1, 0.3, 0.3, 0.3])
    y = (rng.random(n) < 0.4).astype(int)
    strong = 2 * (y + rng.normal(0, 0.6, n)) - 1
    candidate = np.where(region == "north", -strong, strong)
    champion = 1.2 * (y + rng.normal(0, 1.2, n)) - 0.6
    return pd.DataFrame({"y": y, "region": region, "cand": expit(candidate), "champ": expit(champion)})


def decide(config, holdout, score_models):
    classifier, _ = score_models
    cand = classifier("cand").fit(holdout[["cand"]], holdout["y"])
    champ = classifier("champ").fit(holdout[["champ"]], holdout["y"])
    return decide_promotion("binary", config, cand, champ, holdout, ["cand"], "4")


def test_a_candidate_better_overall_but_worse_on_one_slice_is_rejected(make_config, holdout, score_models):
    plain = decide(make_config(), holdout, score_models)
    sliced = decide(make_config(gate={"slices": ["region"]}), holdout, score_models)

    assert plain.promote and plain.candidate_score > plain.champion_score + 0.05 and plain.slices == []
    assert not sliced.promote
    assert sliced.reasons[-1].startswith("fail: slices: region=north: candidate significantly worse")
    by_value = {s.value: s for s in sliced.slices}
    assert set(by_value) == set(REGIONS)
    north = by_value["north"]
    assert north.verdict == "worse" and north.high < 0 and north.rows == int((holdout["region"] == "north").sum())
    assert north.candidate < north.champion
    assert {by_value[r].verdict for r in ("south", "east", "west")} == {"ok"}
    assert "1 of 4 slice(s)" in sliced.reasons[-1]


def test_small_slices_are_skipped_and_listed(make_config, holdout, score_models):
    decision = decide(make_config(gate={"slices": ["region"], "min_slice_rows": 400}), holdout, score_models)
    north = next(s for s in decision.slices if s.value == "north")
    assert north.verdict == "skipped" and north.note == "fewer than 400 rows" and north.diff is None
    assert decision.promote and decision.reasons[-1] == (
        "pass: slices: no slice significantly worse; 3 slice(s) of at least 400 rows compared, 1 skipped"
    )


def test_each_slice_interval_is_corrected_for_the_number_of_slices(make_config, holdout, score_models):
    config = make_config(gate={"slices": ["region"]})
    decision = decide(config, holdout, score_models)
    rows = holdout[holdout["region"] == "south"]
    classifier, _ = score_models
    outputs = [predict_outputs("binary", classifier(c).fit(rows[[c]], rows["y"]), rows[[c]]) for c in ("cand", "champ")]
    corrected = paired_bootstrap("binary", "roc_auc", rows["y"].to_numpy(), *outputs, 200, 1 - 0.05 / 4, 0)
    uncorrected = paired_bootstrap("binary", "roc_auc", rows["y"].to_numpy(), *outputs, 200, 0.95, 0)
    south = next(s for s in decision.slices if s.value == "south")
    assert (south.low, south.high) == pytest.approx((corrected.low, corrected.high))
    assert south.high - south.low > uncorrected.high - uncorrected.low
    assert south.note == "98.75% interval (Bonferroni)"


def test_a_loss_metric_and_a_regressor_are_oriented_candidate_better_positive(make_config, score_models):
    rng = np.random.default_rng(3)
    n = 2000
    shop = rng.choice(["a", "b"], n)
    y = rng.normal(10, 3, n)
    frame = pd.DataFrame(
        {
            "y": y,
            "shop": shop,
            "cand": y + rng.normal(0, np.where(shop == "b", 4.0, 0.5), n),  # far off in shop b
            "champ": y + rng.normal(0, 1.5, n),
        }
    )
    _, regressor = score_models
    cand = regressor("cand").fit(frame[["cand"]], frame["y"])
    champ = regressor("champ").fit(frame[["champ"]], frame["y"])
    config = make_config("regression", gate={"slices": ["shop"], "primary_metric": "mae"})
    decision = decide_promotion("regression", config, cand, champ, frame, ["cand"], "2")
    by_value = {s.value: s for s in decision.slices}
    assert by_value["a"].verdict == "ok" and by_value["a"].diff > 0  # lower MAE: positive = candidate better
    assert by_value["b"].verdict == "worse" and by_value["b"].diff < 0
    assert not decision.promote and "shop=b" in decision.reasons[-1]


def test_a_slice_column_missing_from_the_holdout_is_named(make_config, holdout, score_models):
    from training.data import DataError

    with pytest.raises(DataError, match=r"gate\.slices names 'carrier'"):
        decide(make_config(gate={"slices": ["carrier"]}), holdout, score_models)


def test_slices_on_the_target_are_a_config_error(make_config):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=r"gate\.slices 'y' is the target"):
        make_config(gate={"slices": ["y"]})
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        make_config(gate={"min_slice_rows": 0})
