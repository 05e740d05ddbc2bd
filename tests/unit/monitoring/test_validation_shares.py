"""Share rules (how many rows may be null) are judged only as far as a batch's size allows;
rules about each row (types, impossible values) refuse at any size."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitoring.validation import propose_suite, validate_batch, write_suite
from retrain.demo.workspace import load_flights
from training.shares import MIN_SHARE_ROWS, judge_at_most, judge_between


@pytest.fixture
def suite_path(tmp_path, batch, config):
    return write_suite(propose_suite(batch, config), tmp_path / "suite.json")  # temp: ~5 % nulls, allows 15 %


def with_nulls(frame: pd.DataFrame, share: float, seed: int = 0) -> pd.DataFrame:
    out = frame.copy()
    rng = np.random.default_rng(seed)
    out["temp"] = out["temp"].fillna(50.0)
    out.loc[rng.random(len(out)) < share, "temp"] = np.nan
    return out


def test_a_few_rows_are_not_judged_on_their_share_and_say_so(batch, suite_path):
    one = with_nulls(batch.head(1), 1.0)
    report = validate_batch(one, suite_path, "one.csv")
    assert report.success and report.failures == []
    [skipped] = report.skipped
    assert (skipped.expectation, skipped.column, skipped.share_rule) == (
        "expect_column_values_to_not_be_null",
        "temp",
        True,
    )
    assert f"not judged on 1 row(s) (fewer than {MIN_SHARE_ROWS})" in skipped.details
    assert "1 share rule(s) not judged" in report.summary()


def test_a_share_within_sampling_noise_warns_and_beyond_it_fails(make_batch, suite_path):
    small = with_nulls(make_batch(rows=60, seed=3), 0.2)  # 20 % nulls where 15 % are allowed: noise at 60 rows
    report = validate_batch(small, suite_path, "small.csv")
    assert report.success
    [warning] = [w for w in report.warnings if w.column == "temp"]
    assert "within sampling noise" in warning.details
    large = with_nulls(make_batch(rows=3000, seed=4), 0.2)  # the same share at 3,000 rows is real
    failed = validate_batch(large, suite_path, "large.csv")
    [failure] = failed.failures
    assert failure.column == "temp" and failure.share_rule and "of 3000 rows" in failure.details


def test_per_row_rules_refuse_at_any_size(batch, suite_path):
    typed = batch.head(1).assign(distance="n/a")
    report = validate_batch(typed, suite_path, "typed.csv")
    assert not report.success and {f.column for f in report.failures} == {"distance"}
    assert not any(f.share_rule for f in report.failures)


def test_the_binomial_bounds():
    assert not judge_at_most(6, 20, 0.27, "nulls").judged  # too few rows
    assert not judge_at_most(40, 100, 0.27, "nulls").failed  # 40 % at 100 rows: within noise of 27 %
    assert judge_at_most(52, 100, 0.27, "nulls").failed  # 52 % is not
    assert judge_between(0, 200, 0.01, 0.6, "rate").failed is False  # 0 of 200 at a 1 % floor: noise
    assert judge_between(0, 2000, 0.01, 0.6, "rate").failed  # 0 of 2,000 is not
    assert (
        judge_between(150, 200, 0.01, 0.6, "rate").failed
        and "outside the allowed" in judge_between(150, 200, 0.01, 0.6, "rate").note
    )


def test_real_flights_a_row_a_row_without_pressure_and_a_slice_are_judged_by_their_size(tmp_path):
    """On the demo's own suite: what scoring refused before, by batch size alone."""
    from pathlib import Path

    suite = Path(__file__).resolve().parents[3] / "examples" / "flights-late" / "flights-late.suite.json"
    flights = load_flights()
    june = flights[flights["month"] == 6].reset_index(drop=True)
    june["time_hour"] = pd.to_datetime(june["time_hour"], utc=True)

    row = june.loc[june["pressure"].notna()].head(1)
    assert validate_batch(row, suite, "row.csv").success
    empty = june.loc[june["pressure"].isna()].head(1)
    report = validate_batch(empty, suite, "empty.csv")
    assert report.success and any(s.column == "pressure" for s in report.skipped)
    month = validate_batch(june, suite, "june.csv")
    assert month.success, month.summary()
    gappy = june.loc[june["pressure"].isna()].head(52)  # a 100-row slice, 52 without pressure (27 % allowed)
    gappy = pd.concat([gappy, june.loc[june["pressure"].notna()].head(48)], ignore_index=True)
    sliced = validate_batch(gappy, suite, "slice.csv")
    assert [(f.column, f.share_rule) for f in sliced.failures] == [("pressure", True)]  # scoring: rows to review
    soaked = june.copy()
    soaked.loc[soaked.index[: int(0.6 * len(soaked))], "pressure"] = np.nan
    refused = validate_batch(soaked, suite, "soaked.csv")
    assert [(f.column, f.share_rule) for f in refused.failures] == [("pressure", True)]


def test_real_flights_a_new_carrier_in_one_row_is_not_judged_but_a_month_of_them_is(tmp_path):
    """The carrier rule allows a share of new codes (``mostly``): one row says nothing about a share."""
    from pathlib import Path

    suite = Path(__file__).resolve().parents[3] / "examples" / "flights-late" / "flights-late.suite.json"
    flights = load_flights()
    june = flights[flights["month"] == 6].reset_index(drop=True)
    june["time_hour"] = pd.to_datetime(june["time_hour"], utc=True)

    row = june.loc[june["pressure"].notna()].head(1).assign(carrier="ZZ")
    report = validate_batch(row, suite, "new-carrier.csv")
    assert report.success, report.summary()
    [skipped] = [s for s in report.skipped if s.column == "carrier"]
    assert skipped.share_rule and "not judged on 1 row(s)" in skipped.details
    renamed = june.assign(carrier="ZZ")
    month = validate_batch(renamed, suite, "renamed.csv")
    [failure] = [f for f in month.failures if f.column == "carrier"]
    assert failure.share_rule and f"of {len(june)} rows" in failure.details
