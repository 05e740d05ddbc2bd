"""A suite file that cannot be used raises SuiteError naming the file and the problem;
a usable one is read in the layout GX itself writes, and edits take effect at once."""

from __future__ import annotations

import json

import pytest

from monitoring.validation import SuiteError, validate_batch

NOT_NULL = {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "distance"}}


def write(tmp_path, content):
    path = tmp_path / "suite.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"name": "s", "expectations": [', "not valid JSON at line 1"),
        ("[]", "expected a JSON object"),
        ({"expectations": [NOT_NULL]}, "'name' must be a non-empty string"),
        ({"name": "s", "expectations": []}, "'expectations' must be a non-empty list"),
        ({"name": "s", "expectations": ["expect_column_to_exist"]}, "expectations[0]: expected an object"),
        ({"name": "s", "expectations": [NOT_NULL, {"kwargs": {}}]}, "expectations[1]: 'type' must name"),
        ({"name": "s", "expectations": [{"type": "expect_column_to_exist", "kwargs": []}]}, "'kwargs' must"),
        ({"name": "s", "expectations": [NOT_NULL | {"kwarg": {}}]}, "unknown field(s) ['kwarg']"),
        ({"name": "s", "expectations": [{"type": "expect_it_to_work", "kwargs": {}}]}, "unknown expectation type"),
        (
            {"name": "s", "expectations": [{"type": "expect_column_values_to_not_be_null", "kwargs": {"col": "a"}}]},
            "expectations[0] (expect_column_values_to_not_be_null): invalid kwargs",
        ),
    ],
)
def test_malformed_suite_raises_suite_error(tmp_path, batch, content, problem):
    path = write(tmp_path, content)
    with pytest.raises(SuiteError) as caught:
        validate_batch(batch, path, "b.csv")
    assert str(path) in str(caught.value) and problem in str(caught.value)
    assert caught.value.path == str(path)


def test_missing_suite_file_raises_suite_error(tmp_path, batch):
    with pytest.raises(SuiteError, match="cannot read the suite file"):
        validate_batch(batch, tmp_path / "absent.json", "b.csv")


def test_suite_written_by_gx_is_accepted(tmp_path, batch):
    import great_expectations as gx

    suite = gx.ExpectationSuite(
        name="from-gx",
        expectations=[
            gx.expectations.ExpectColumnValuesToNotBeNull(column="distance"),
            gx.expectations.ExpectColumnValuesToBeBetween(column="distance", min_value=0, max_value=10),
        ],
    )
    raw = suite.to_json_dict()
    raw["expectations"][0]["id"] = "6b1f5d0e-0000-0000-0000-000000000000"  # as a saved suite has
    path = write(tmp_path, json.dumps(raw, default=str))
    report = validate_batch(batch, path, "b.csv")
    assert report.suite == "from-gx" and report.evaluated == 2
    found = [(f.expectation, f.column) for f in report.failures]
    assert found == [("expect_column_values_to_be_between", "distance")]


def test_editing_the_suite_takes_effect_in_the_same_process(tmp_path, batch):
    path = write(tmp_path, {"name": "s", "expectations": [NOT_NULL]})
    assert validate_batch(batch, path, "b.csv").success
    between = {"type": "expect_column_values_to_be_between", "kwargs": {"column": "distance", "max_value": 1}}
    write(tmp_path, {"name": "s", "expectations": [NOT_NULL, between]})
    report = validate_batch(batch, path, "b.csv")
    assert not report.success and report.evaluated == 2


def test_duplicate_expectations_are_each_evaluated(tmp_path, batch):
    between = {"type": "expect_column_values_to_be_between", "kwargs": {"column": "distance", "max_value": 1}}
    path = write(tmp_path, {"name": "s", "expectations": [between, between]})
    report = validate_batch(batch, path, "b.csv")
    assert report.evaluated == 2 and len(report.failures) == 2
