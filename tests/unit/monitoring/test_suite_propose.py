"""propose_suite derives a reviewable suite from reference rows; write_suite stores it
stably and never clobbers an edited one; the proposal round-trips through real GX."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from monitoring.validation import propose_suite, validate_batch, write_suite


def by_key(suite):
    """Expectations keyed by (type, column); where a column has a shift rule (warn) and a broken
    rule (error) of the same type, the shift rule. At most one of each per severity."""
    severities = {(e["type"], e["kwargs"].get("column"), e["meta"]["severity"]) for e in suite["expectations"]}
    assert len(severities) == len(suite["expectations"])  # without declared bounds
    ordered = sorted(suite["expectations"], key=lambda e: e["meta"]["severity"] == "warn")
    return {(e["type"], e["kwargs"].get("column")): e for e in ordered}


def broken_rule(suite, kind, column, note=""):
    """The ``error`` rule of a type on a column (whose note holds ``note``): what quarantines a batch."""
    [rule] = [
        e
        for e in suite["expectations"]
        if (e["type"], e["kwargs"].get("column"), e["meta"]["severity"]) == (kind, column, "error")
        and note in e["meta"]["note"]
    ]
    return rule


def test_schema_and_row_count(batch, config):
    suite = propose_suite(batch, config)
    found = by_key(suite)
    assert suite["name"] == config.name
    assert found[("expect_table_row_count_to_be_between", None)]["kwargs"] == {"min_value": 1}
    columns = found[("expect_table_columns_to_match_set", None)]["kwargs"]
    assert columns == {"column_set": list(batch.columns), "exact_match": True}
    assert found[("expect_table_columns_to_match_set", None)]["meta"]["severity"] == "warn"
    exist = {column for kind, column in found if kind == "expect_column_to_exist"}
    assert exist == set(batch.columns) - {"flight"}  # the excluded column may come and go
    assert all(e["meta"]["note"] and e["meta"]["severity"] in ("error", "warn") for e in suite["expectations"])


def test_every_column_gets_a_null_check_from_its_observed_share(batch, config):
    found = by_key(propose_suite(batch, config))
    for column in batch.columns:
        mostly = found[("expect_column_values_to_not_be_null", column)]["kwargs"]["mostly"]
        share = batch[column].notna().mean()
        if column in ("ts", "late"):  # the timestamp and the target stay complete
            assert mostly == 1.0
        else:  # twice the reference's null share plus 5 % of rows: 95 % for a column without nulls
            assert mostly == pytest.approx(min(share, 1.0 - 2 * (1.0 - share) - 0.05), abs=1e-4)
    assert "null in the reference" in found[("expect_column_values_to_not_be_null", "temp")]["meta"]["note"]


def test_type_lists_follow_the_dtype(batch, config):
    found = by_key(propose_suite(batch, config))

    def types(column):
        return found[("expect_column_values_to_be_in_type_list", column)]["kwargs"]["type_list"]

    assert {"int64", "int32", "Int64Dtype"} <= set(types("distance")) and "float64" not in types("distance")
    assert {"float64", "int64", "Float64Dtype"} <= set(types("temp"))
    assert types("carrier") == ["StringDtype", "str"]
    assert "bool" in types("weekend")
    # GX cannot express categorical or tz-aware dtypes by name: no type check rather than a false one
    assert ("expect_column_values_to_be_in_type_list", "origin") not in found
    assert ("expect_column_values_to_be_in_type_list", "ts") not in found


def test_numeric_ranges_come_from_quantiles_widened_by_their_spread(batch, config):
    glitched = batch.copy()
    glitched.loc[0, "temp"] = 5_000.0  # one sensor glitch must not become the valid range
    suite = propose_suite(glitched, config, range_pad=0.5, range_mostly=0.97)
    found = by_key(suite)
    assert found[("expect_column_values_to_be_between", "temp")]["meta"]["severity"] == "warn"  # a shift
    kwargs = found[("expect_column_values_to_be_between", "temp")]["kwargs"]
    low, high = batch["temp"].quantile([0.01, 0.99])
    growth = 3.0 * high  # non-negative: may triple, which is wider here than half the spread
    assert kwargs["max_value"] == pytest.approx(max(high + 0.5 * (high - low), growth), abs=1.0)
    assert kwargs["max_value"] < 5_000
    assert kwargs["min_value"] == 0  # never negative in the reference: stays non-negative
    assert kwargs["mostly"] == 0.97
    distance = found[("expect_column_values_to_be_between", "distance")]["kwargs"]
    assert distance["min_value"] == 0
    assert isinstance(distance["max_value"], int) and distance["max_value"] >= batch["distance"].max()
    gross = broken_rule(suite, "expect_column_values_to_be_between", "temp")["kwargs"]
    spread = high - low  # of the rows without the glitch: the glitched frame's percentiles move a little
    assert gross["min_value"] == pytest.approx(low - 10 * spread, abs=0.05 * spread)  # ten spreads: a unit slip
    # non-negative: may also grow tenfold, which is wider here than ten spreads
    assert gross["max_value"] == pytest.approx(max(high + 10 * spread, 10 * high), abs=0.05 * spread)
    assert gross["mostly"] == 0.99


def test_declared_bounds_become_error_rules(batch, make_config):
    config = make_config()
    config = config.model_copy(
        update={"validation": config.validation.model_copy(update={"bounds": {"temp": (0.0, None)}})}
    )
    suite = propose_suite(batch, config)
    rule = broken_rule(suite, "expect_column_values_to_be_between", "temp", "validation.bounds.temp")
    assert rule["kwargs"] == {"column": "temp", "min_value": 0.0}
    assert broken_rule(suite, "expect_column_values_to_be_between", "temp", "unit or encoding")  # both kept


def test_value_sets_for_categories_and_the_target(batch, config):
    found = by_key(propose_suite(batch, config))
    assert found[("expect_column_values_to_be_in_set", "carrier")]["kwargs"]["value_set"] == sorted(
        batch["carrier"].unique()
    )
    assert found[("expect_column_values_to_be_in_set", "origin")]["kwargs"]["value_set"] == ["EWR", "JFK", "LGA"]
    assert found[("expect_column_values_to_be_in_set", "weekend")]["kwargs"]["value_set"] == [False, True]
    assert found[("expect_column_values_to_be_in_set", "late")]["kwargs"] == {"column": "late", "value_set": [0, 1]}
    assert found[("expect_column_values_to_be_in_set", "carrier")]["kwargs"]["mostly"] == 0.98  # new ones, a few
    assert found[("expect_column_values_to_be_in_set", "carrier")]["meta"]["severity"] == "warn"
    garbled = broken_rule(propose_suite(batch, config), "expect_column_values_to_be_in_set", "carrier")
    assert garbled["kwargs"]["mostly"] == 0.5 and "garbled" in garbled["meta"]["note"]
    assert found[("expect_column_values_to_be_in_set", "late")]["meta"]["severity"] == "error"
    closed = by_key(propose_suite(batch, config, new_category_share=0.0))
    assert "mostly" not in closed[("expect_column_values_to_be_in_set", "carrier")]["kwargs"]
    assert ("expect_column_values_to_be_between", "late") not in found


def test_no_value_checks_for_unused_or_high_cardinality_columns(batch, config):
    frame = batch.assign(tailnum=[f"N{i}" for i in range(len(batch))])
    found = by_key(propose_suite(frame, config, max_categories=50))
    kinds = {kind for kind, column in found if column in ("flight", "tailnum")}
    assert kinds == {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_in_type_list",
        "expect_column_to_exist",
    }
    assert {e["meta"]["severity"] for (kind, column), e in found.items() if column == "flight"} == {"warn"}


def test_timestamp_column_type_is_left_to_the_loader(batch, config, tmp_path):
    raw = batch.assign(ts=batch["ts"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))  # as read from CSV, unparsed
    found = by_key(propose_suite(raw, config))
    assert {kind for kind, column in found if column == "ts"} == {
        "expect_column_values_to_not_be_null",
        "expect_column_to_exist",
        "expect_column_values_to_be_between",
    }
    path = write_suite(propose_suite(raw, config), tmp_path / "suite.json")
    assert validate_batch(batch, path, "parsed.csv").success


def test_timestamp_range_reaches_back_a_year_and_forward_to_validation_time(batch, config):
    kwargs = by_key(propose_suite(batch, config))[("expect_column_values_to_be_between", "ts")]["kwargs"]
    first = batch["ts"].min()
    assert pd.Timestamp(kwargs["min_value"]) == (first - pd.Timedelta(days=365)).floor("D")
    assert kwargs["max_value"] == {"$PARAMETER": "latest_plausible_timestamp"}


@pytest.mark.parametrize(
    "shift, passes",
    [(pd.Timedelta(days=60), True), (pd.Timedelta(days=-300), True), (pd.Timedelta(days=-800), False), (None, False)],
)
def test_proposed_suite_rejects_future_and_ancient_batches(batch, config, tmp_path, shift, passes):
    path = write_suite(propose_suite(batch, config), tmp_path / "suite.json")
    if shift is None:  # a batch dated in 2099 (the future, whatever today is)
        moved = batch.assign(ts=pd.date_range("2099-01-01", periods=len(batch), freq="h", tz="UTC"))
    else:
        moved = batch.assign(ts=batch["ts"] + shift)
    report = validate_batch(moved, path, "moved.csv")
    assert report.success is passes
    if not passes:
        failure = next(f for f in report.failures if f.column == "ts")
        assert failure.expectation == "expect_column_values_to_be_between"
        assert failure.unexpected_count == len(batch)


def test_regression_target_gets_no_range_and_declared_categoricals_a_set(batch, make_config):
    config = make_config("regression", categorical=["distance_band"])
    frame = batch.assign(late=batch["late"] * 10.5, distance_band=batch["distance"] // 1000)
    found = by_key(propose_suite(frame, config))
    assert ("expect_column_values_to_be_between", "late") not in found  # growth of the target is the point
    assert ("expect_column_values_to_be_in_set", "late") not in found
    assert found[("expect_column_values_to_be_in_set", "distance_band")]["kwargs"]["value_set"] == [0, 1, 2]


def test_empty_frame_is_refused(batch, config):
    with pytest.raises(ValueError, match="empty"):
        propose_suite(batch.iloc[:0], config)


def test_write_suite_is_stable_and_refuses_to_overwrite(batch, config, tmp_path):
    suite = propose_suite(batch, config)
    path = write_suite(suite, tmp_path / "nested" / "suite.json")
    text = path.read_text()
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
    assert json.loads(text) == suite
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_suite({"name": "other", "expectations": []}, path)
    assert path.read_text() == text
    write_suite(propose_suite(batch.iloc[:100], config), path, overwrite=True)
    assert path.read_text() != text
    write_suite(suite, path, overwrite=True)
    assert path.read_text() == text
    assert sorted(p.name for p in path.parent.iterdir()) == ["suite.json"]


def test_round_trip_passes_on_the_reference_and_fails_on_a_shift(batch, config, tmp_path):
    path = write_suite(propose_suite(batch, config), tmp_path / "suite.json")
    assert validate_batch(batch, path, "reference.csv").success
    shifted = batch.assign(temp=batch["temp"] * 1000.0)  # a unit slip, far past any season or growth
    report = validate_batch(shifted, path, "shifted.csv")
    assert [(f.expectation, f.column) for f in report.failures] == [("expect_column_values_to_be_between", "temp")]


def test_round_trip_with_nullable_and_string_dtypes(config, tmp_path):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "ts": pd.date_range("2024-01-01", periods=120, freq="D", tz="UTC"),
            "count": pd.array(rng.integers(0, 50, 120), dtype="Int64"),
            "code": pd.array(rng.choice(["x", "y"], 120), dtype="string"),
            "score": pd.array(rng.random(120), dtype="Float64"),
            "late": rng.integers(0, 2, 120),
        }
    )
    frame.loc[0, "count"] = pd.NA
    path = write_suite(propose_suite(frame, config), tmp_path / "suite.json")
    report = validate_batch(frame, path, "nullable.csv")
    assert report.success, report.summary()
