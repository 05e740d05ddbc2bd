"""validate_batch runs a suite with real Great Expectations and names what broke."""

from __future__ import annotations

import json

import numpy as np
import pytest

from monitoring.validation import propose_suite, validate_batch, write_suite


@pytest.fixture
def suite_path(tmp_path, batch, config):
    return write_suite(propose_suite(batch, config), tmp_path / "suite.json")


def failures_on(report, column):
    return {f.expectation for f in report.failures if f.column == column}


def test_good_batch_passes(batch, suite_path, make_batch):
    fresh = make_batch(seed=1)  # same distribution, other rows
    report = validate_batch(fresh, suite_path, "fresh.csv")
    assert report.success, report.summary()
    assert report.failures == [] and report.error is None
    assert report.rows == len(fresh) and report.batch == "fresh.csv" and report.suite == "flights-test"
    assert report.evaluated == len(json.loads(suite_path.read_text())["expectations"])


def test_missing_column_is_named(batch, suite_path):
    report = validate_batch(batch.drop(columns=["temp"]), suite_path, "b.csv")
    assert not report.success
    on_temp = [f for f in report.failures if f.column == "temp"]
    assert on_temp and all("'temp' is missing" in f.details for f in on_temp)
    assert "expect_column_to_exist" in failures_on(report, "temp")
    table = [f for f in report.warnings if f.expectation == "expect_table_columns_to_match_set"]
    assert len(table) == 1 and "missing columns: temp" in table[0].details
    assert "(temp)" in report.summary()


def test_renamed_column_names_both_names(batch, suite_path):
    report = validate_batch(batch.rename(columns={"distance": "dist_miles"}), suite_path, "b.csv")
    assert not report.success
    table = next(f for f in report.warnings if f.expectation == "expect_table_columns_to_match_set")
    assert "missing columns: distance" in table.details and "unexpected columns: dist_miles" in table.details
    assert "expect_column_values_to_be_between" in failures_on(report, "distance")


def test_strings_in_numeric_column_fail_the_type_check(batch, suite_path):
    broken = batch.astype({"distance": object})
    broken.loc[:9, "distance"] = "n/a"
    report = validate_batch(broken, suite_path, "b.csv")
    assert not report.success
    typed = next(f for f in report.failures if f.expectation == "expect_column_values_to_be_in_type_list")
    assert typed.column == "distance" and typed.unexpected_count == 10
    assert "'n/a'" in typed.details
    assert failures_on(report, "temp") == set()


def test_nulls_beyond_the_suite_fail(batch, suite_path):
    broken = batch.copy()
    broken.loc[: len(broken) // 2, "temp"] = np.nan
    report = validate_batch(broken, suite_path, "b.csv")
    failure = next(f for f in report.failures if f.column == "temp")
    assert failure.expectation == "expect_column_values_to_not_be_null"
    assert failure.unexpected_count == int(broken["temp"].isna().sum())
    assert "are null" in failure.details and "mostly=" in failure.details
    assert len(report.failures) == 1


def test_values_beyond_the_range_are_a_shift_and_a_unit_slip_is_broken(batch, suite_path):
    shifted = batch.copy()
    shifted.loc[:4, "distance"] = -shifted.loc[:4, "distance"]  # never seen, but no declared limit says impossible
    report = validate_batch(shifted, suite_path, "shifted.csv")
    assert report.success and report.failures == []
    [warning] = report.warnings
    assert (warning.expectation, warning.column) == ("expect_column_values_to_be_between", "distance")
    assert warning.unexpected_count == 5
    assert warning.unexpected_percent == pytest.approx(100 * 5 / len(batch))
    assert str(int(shifted.loc[0, "distance"])) in warning.details
    slipped = batch.copy()
    slipped.loc[:4, "distance"] = slipped.loc[:4, "distance"] * 1000  # metres for kilometres
    report = validate_batch(slipped, suite_path, "slipped.csv")
    [failure] = report.failures
    assert (failure.expectation, failure.column) == ("expect_column_values_to_be_between", "distance")
    assert failure.unexpected_count == 5


def test_a_declared_bound_fails_on_one_row(batch, config, tmp_path):
    bounded = config.model_copy(
        update={"validation": config.validation.model_copy(update={"bounds": {"distance": (0.0, None)}})}
    )
    path = write_suite(propose_suite(batch, bounded), tmp_path / "bounded.json")
    broken = batch.copy()
    broken.loc[0, "distance"] = -broken.loc[0, "distance"]
    [failure] = validate_batch(broken, path, "b.csv").failures
    assert (failure.expectation, failure.column, failure.unexpected_count) == (
        "expect_column_values_to_be_between",
        "distance",
        1,
    )


def test_a_new_category_warns_and_a_garbled_column_fails(batch, suite_path):
    few = batch.copy()
    few.loc[:2, "carrier"] = "ZZ"  # 1.5 % of rows: a new carrier may appear unreported
    assert validate_batch(few, suite_path, "few.csv").warnings == []
    season = batch.copy()
    season.loc[: len(batch) // 3, "carrier"] = "ZZ"  # a third of the rows: a new carrier, reported
    report = validate_batch(season, suite_path, "season.csv")
    assert report.success
    [warning] = report.warnings
    assert (warning.expectation, warning.column) == ("expect_column_values_to_be_in_set", "carrier")
    assert warning.unexpected_percent == pytest.approx(100 * (len(batch) // 3 + 1) / len(batch))
    assert "'ZZ'" in warning.details
    garbled = batch.assign(carrier=[f"\u00c3{c}\u00a9" for c in batch["carrier"]])  # mojibake in every row
    report = validate_batch(garbled, suite_path, "garbled.csv")
    assert {(f.expectation, f.column) for f in report.failures} == {("expect_column_values_to_be_in_set", "carrier")}


def test_unknown_target_label_fails(batch, suite_path):
    broken = batch.copy()
    broken.loc[:3, "late"] = 2
    report = validate_batch(broken, suite_path, "b.csv")
    assert failures_on(report, "late") == {"expect_column_values_to_be_in_set"}


def test_failures_are_sorted_and_the_frame_is_untouched(batch, suite_path):
    broken = batch.drop(columns=["temp"]).assign(carrier="ZZ")
    before = broken.copy()
    report = validate_batch(broken, suite_path, "b.csv")
    keys = [(f.column is not None, str(f.column), f.expectation) for f in report.failures]
    assert keys == sorted(keys)
    assert broken.equals(before) and list(broken.columns) == list(before.columns)


def test_report_round_trips_through_json(batch, suite_path):
    from monitoring.types import ValidationReport

    report = validate_batch(batch.assign(carrier="ZZ"), suite_path, "b.csv")
    restored = ValidationReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert restored == report


def test_nothing_is_written_to_disk(batch, config, tmp_path, monkeypatch):
    from monitoring import validation

    workdir, home = tmp_path / "cwd", tmp_path / "home"
    workdir.mkdir()
    home.mkdir()
    suite = write_suite(propose_suite(batch, config), tmp_path / "suite.json")
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setattr(validation, "_GX", {})  # build a fresh context inside this test
    monkeypatch.setattr(validation, "_DEFINITIONS", {})
    assert validate_batch(batch, suite, "b.csv").success
    assert list(workdir.iterdir()) == [] and list(home.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cwd", "home", "suite.json"]
