"""The review threshold chosen on the holdout, the confidence it reads, and the scored rows."""

import numpy as np
import pandas as pd
import pytest

from base.serving_config import ServingConfig
from base.vocabulary import Route
from serving.calibration import Calibration, calibrate, row_ids, scored_frame
from training.types import Outputs


def binary_holdout(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0, 1, n)
    y = (rng.uniform(0, 1, n) < p).astype(int)  # calibrated: surer rows are right more often
    return Outputs(values=p, labels=np.array([0, 1])), y


def test_review_rate_sends_that_share_of_the_holdout_to_review():
    outputs, y = binary_holdout()
    got = calibrate("binary", outputs, y, ServingConfig(threshold="review_rate", review_rate=0.2))
    assert got.holdout_review_rate == pytest.approx(0.2, abs=0.002)
    everything = calibrate("binary", outputs, y, ServingConfig(threshold="review_rate", review_rate=0.0))
    assert everything.holdout_review_rate == 0.0 and everything.threshold == 0.0


def test_target_accuracy_is_met_on_auto_rows_with_the_most_rows_auto_routed():
    outputs, y = binary_holdout()
    got = calibrate("binary", outputs, y, ServingConfig(threshold="accuracy", target_accuracy=0.85))
    assert got.holdout_auto_accuracy >= 0.85
    # one step lower on the margin would break the target: the threshold is the lowest that holds
    margin = np.abs(2 * outputs.values - 1)
    lower = margin[margin < got.threshold].max()
    auto = margin >= lower
    assert ((outputs.values[auto] >= 0.5).astype(int) == y[auto]).mean() < 0.85
    wrong = (outputs.values < 0.5).astype(int)  # every prediction wrong: no threshold reaches any target
    unreachable = calibrate("binary", outputs, wrong, ServingConfig(threshold="accuracy", target_accuracy=0.5))
    assert unreachable.holdout_review_rate == 1.0


def test_fixed_threshold_is_taken_as_is_and_round_trips_through_tags():
    outputs, y = binary_holdout()
    got = calibrate("binary", outputs, y, ServingConfig(threshold="fixed", fixed=0.3))
    assert got.threshold == 0.3
    assert Calibration.from_tags(got.to_tags()) == got
    assert Calibration.from_tags({"other": "x"}) is None


def test_regression_interval_covers_the_holdout_and_wide_rows_go_to_review():
    rng = np.random.default_rng(1)
    pred = rng.uniform(0, 10, 3000)
    y = pred + rng.normal(0, 0.1 + 0.2 * pred, 3000)  # noise grows with the prediction
    cal = calibrate("regression", Outputs(values=pred), y, ServingConfig(review_rate=0.3, coverage=0.9))
    assert Calibration.from_tags(cal.to_tags()) == cal
    rows = scored_frame("regression", pd.Series(range(3000)), Outputs(values=pred), cal, "3")
    inside = (y >= rows["interval_low"]) & (y <= rows["interval_high"])
    assert inside.mean() >= 0.89
    review = rows["route"] == Route.REVIEW
    assert review.mean() == pytest.approx(0.3, abs=0.1)
    assert pred[review].mean() > pred[~review].mean()  # the noisy end is the one reviewed


def test_scored_rows_carry_prediction_score_confidence_version_and_route():
    outputs = Outputs(values=np.array([0.95, 0.55, 0.1]), labels=np.array(["no", "yes"]))
    cal = Calibration(mode="fixed", threshold=0.5)
    rows = scored_frame("binary", pd.Series(["a", "b", "c"]), outputs, cal, "7")
    assert rows["prediction"].tolist() == ["yes", "yes", "no"]
    assert rows["confidence"].round(2).tolist() == [0.9, 0.1, 0.8]
    assert rows["route"].tolist() == ["auto", "review", "auto"]
    assert set(rows["version"]) == {"7"} and set(rows["positive_label"]) == {"yes"}


def test_row_ids_use_the_column_or_a_stable_hash_of_the_row():
    frame = pd.DataFrame({"k": [10, 11], "x": [1.0, 2.0]})
    assert row_ids(frame, "k").tolist() == ["10", "11"]
    hashed = row_ids(frame, None)
    assert hashed.tolist() == row_ids(frame.copy(), None).tolist() and hashed.nunique() == 2


def test_a_target_accuracy_for_a_regressor_is_a_config_error_naming_the_field(tmp_path):
    import yaml

    from base.settings import ConfigError, load_config

    raw = {
        "name": "r",
        "task": "regression",
        "data": {"path": "*.csv", "timestamp_column": "ts", "target_column": "y"},
        "validation": {"suite": "s.json"},
        "serving": {"threshold": "accuracy"},
    }
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.field == "serving.threshold" and "needs a classifier" in str(err.value)
    raw["serving"] = {"threshold": "review_rate", "review_rate": 0.2}
    path.write_text(yaml.safe_dump(raw))
    assert load_config(path).serving.review_rate == 0.2
