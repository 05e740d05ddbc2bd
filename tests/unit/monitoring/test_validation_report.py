"""The report's one-line summary and its JSON form are what people and flows read."""

from __future__ import annotations

import json

from monitoring.types import ExpectationFailure, ValidationReport


def failure(column, expectation="expect_column_values_to_be_between"):
    return ExpectationFailure(expectation, column, 2, 1.0, "observed -1")


def test_summary_of_a_pass_counts_expectations_and_rows():
    report = ValidationReport("b.csv", True, 120, 24, [], None, "s")
    assert report.summary() == "PASSED 24 of 24 expectations on 120 rows"


def test_summary_of_a_failure_lists_expectation_and_column():
    table = ExpectationFailure("expect_table_columns_to_match_set", None, None, None, "missing columns: x")
    report = ValidationReport("b.csv", False, 10, 24, [table, failure("dep_time")], None, "s")
    assert report.summary() == (
        "FAILED 2 of 24 expectations: expect_table_columns_to_match_set, expect_column_values_to_be_between(dep_time)"
    )


def test_summary_shortens_long_failure_lists():
    report = ValidationReport("b.csv", False, 10, 24, [failure(f"c{i}") for i in range(8)], None, "s")
    assert report.summary().startswith("FAILED 8 of 24 expectations: ")
    assert report.summary().endswith("(c4) and 3 more")


def test_to_dict_is_json_and_from_dict_restores_it():
    report = ValidationReport("b.csv", False, 10, 3, [failure("a"), failure("b")], None, "s")
    data = json.loads(json.dumps(report.to_dict()))
    assert data["failures"][1]["column"] == "b"
    assert ValidationReport.from_dict(data | {"quarantined_at": "2026-01-01"}) == report
