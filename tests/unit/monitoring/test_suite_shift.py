"""The proposed suite, used unchanged, tells a shifted batch (warn) from a broken one (error).

A standardised feature whose reference period was quiet moves well beyond the values it
had; a season brings a category value the reference never held. Both are plausible, so
validation lets them through and reports the share of rows concerned. The same column in
the wrong unit (x1000), or garbled text in most rows, stops the batch.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from base.settings import ModelConfig
from monitoring.suite_rules import GROSS_SPREADS, QUANTILES
from monitoring.validation import propose_suite, validate_batch, write_suite

ROWS = 1500
SEASONS = ["winter", "spring", "summer"]


def regime(seed: int, *, centre: float = 0.0, spread: float = 1.0, seasons: list[str] = SEASONS) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "ts": pd.date_range("2024-01-01", periods=ROWS, freq="h", tz="UTC"),
            "z": rng.normal(centre, spread, ROWS).round(4),  # a standardised feature
            "season": rng.choice(seasons, ROWS),
            "y": rng.integers(0, 2, ROWS),
        }
    )


@pytest.fixture(scope="module")
def config() -> ModelConfig:
    data = {"path": "b/*.csv", "timestamp_column": "ts", "target_column": "y"}
    return ModelConfig.model_validate({"name": "shift", "task": "binary", "data": data, "validation": {"suite": "s"}})


def suite_from(reference: pd.DataFrame, config: ModelConfig, folder: Path) -> Path:
    return write_suite(propose_suite(reference, config), folder / "suite.json")


def only(items, column):
    return [item for item in items if item.column == column]


def test_a_feature_leaving_its_reference_range_warns_with_the_share_of_rows(config, tmp_path):
    quiet = regime(1, spread=0.25)  # the reference period of a standardised feature was calm
    suite = suite_from(quiet, config, tmp_path)
    moved = regime(2, centre=1.5, spread=0.5)  # a third of the rows beyond anything proposed, up to ~3

    report = validate_batch(moved, suite, "moved.csv")

    assert report.success and report.failures == [], report.summary()
    [warning] = only(report.warnings, "z")
    assert warning.expectation == "expect_column_values_to_be_between"
    [rule] = [
        e["kwargs"]
        for e in json.loads(suite.read_text())["expectations"]
        if e["kwargs"].get("column") == "z" and e["meta"]["severity"] == "warn"
    ]
    outside = 100 * (~moved["z"].between(rule["min_value"], rule["max_value"])).mean()
    assert warning.unexpected_percent == pytest.approx(outside, abs=1e-3)
    assert 20 < warning.unexpected_percent < 45
    assert f"{warning.unexpected_percent:.2f}%" in report.summary()
    assert f"({warning.unexpected_percent:.2f}%)" in warning.details
    assert moved["z"].max() > 2.5


def test_a_unit_change_of_the_same_feature_is_broken(config, tmp_path):
    suite = suite_from(regime(1), config, tmp_path)
    shifted = regime(2, centre=1.2)  # the literal concept-drift batch: mean moved by 1.2 sd
    assert validate_batch(shifted, suite, "shifted.csv").success

    report = validate_batch(shifted.assign(z=shifted["z"] * 1000), suite, "x1000.csv")

    assert not report.success
    [failure] = only(report.failures, "z")
    assert failure.expectation == "expect_column_values_to_be_between"
    assert failure.unexpected_percent > 90


@pytest.mark.parametrize(("spreads", "passes"), [(GROSS_SPREADS - 1, True), (GROSS_SPREADS + 1, False)])
def test_the_gross_outlier_rule_sits_at_its_documented_distance(config, tmp_path, spreads, passes):
    reference = regime(1)
    low, high = np.quantile(reference["z"], QUANTILES)
    suite = suite_from(reference, config, tmp_path)
    batch = regime(3)
    batch.loc[: ROWS // 20, "z"] = high + spreads * (high - low)  # 5 % of rows that far beyond the 99th

    report = validate_batch(batch, suite, "far.csv")

    assert report.success is passes, report.summary()
    assert [w.column for w in report.warnings] == ["z"]  # beyond the statistical range either way
    assert [f.column for f in report.failures] == ([] if passes else ["z"])


def test_a_new_season_in_a_third_of_the_rows_warns(config, tmp_path):
    suite = suite_from(regime(1), config, tmp_path)
    later = regime(4, seasons=[*SEASONS, "autumn"])
    later.loc[: int(ROWS * 0.3), "season"] = "autumn"

    report = validate_batch(later, suite, "autumn.csv")

    assert report.success, report.summary()
    [warning] = only(report.warnings, "season")
    assert warning.expectation == "expect_column_values_to_be_in_set"
    assert warning.unexpected_percent == pytest.approx(100 * (later["season"] == "autumn").mean())
    assert "'autumn'" in warning.details


def test_a_garbled_category_column_is_broken(config, tmp_path):
    suite = suite_from(regime(1), config, tmp_path)
    rng = np.random.default_rng(5)
    garbled = regime(4)
    mangled = rng.random(ROWS) < 0.7  # most rows: random strings and mojibake
    noise = ["".join(rng.choice(list("abcxyz\u00c3\u00a9\u00e2\u20ac\u2122"), 6)) for _ in range(ROWS)]
    garbled.loc[mangled, "season"] = np.asarray(noise, dtype=object)[mangled]

    report = validate_batch(garbled, suite, "garbled.csv")

    assert not report.success
    assert [(f.expectation, f.column) for f in report.failures] == [("expect_column_values_to_be_in_set", "season")]
    assert report.failures[0].unexpected_percent > 50


def test_a_value_below_a_declared_bound_is_broken(config, tmp_path):
    bounded = config.model_copy(
        update={"validation": config.validation.model_copy(update={"bounds": {"z": (-5.0, None)}})}
    )
    suite = write_suite(propose_suite(regime(1), bounded), tmp_path / "bounded.json")
    batch = regime(6)
    batch.loc[0, "z"] = -5.5  # far inside the gross-outlier limits, yet below the declared one

    report = validate_batch(batch, suite, "low.csv")

    assert not report.success
    [failure] = report.failures
    assert (failure.column, failure.unexpected_count) == ("z", 1)
    assert "min_value=-5.0" in failure.details
