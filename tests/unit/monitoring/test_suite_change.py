"""A proposed suite lets honest change through (growth, seasons) and still stops broken data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from monitoring.validation import propose_suite, validate_batch, write_suite


def demand_month(month: int, rows: int = 400, seed: int = 7) -> pd.DataFrame:
    """Demand that grows 8 % a month with a yearly temperature cycle, a few stores and glitches."""
    rng = np.random.default_rng(seed * 100 + month)
    season = np.sin(2 * np.pi * (month - 4) / 12)
    temp = rng.normal(55 + 25 * season, 8, rows)
    stores = rng.choice(["north", "south", "east"], rows)
    level = 100 * 1.08**month
    demand = level * (1 + 0.01 * (temp - 55)) + rng.normal(0, 5, rows)
    frame = pd.DataFrame(
        {
            "ts": pd.date_range(f"2024-{month:02d}-01", periods=rows, freq="90min", tz="UTC"),
            "temp": temp.round(1),
            "price": rng.uniform(2.0, 5.0, rows).round(2) * 1.02**month,
            "visitors": rng.poisson(level, rows),
            "store": stores,
            "demand": demand.round(1),
        }
    )
    if month == 1:
        frame.loc[0, "temp"] = 900.0  # a sensor glitch in the reference
    return frame


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    from base.settings import ModelConfig

    config = ModelConfig.model_validate(
        {
            "name": "demand",
            "task": "regression",
            "validation": {"suite": "s.json", "bounds": {"visitors": [0, None]}},
            "data": {"path": "b/*.csv", "timestamp_column": "ts", "target_column": "demand"},
        }
    )
    reference = pd.concat([demand_month(m) for m in (1, 2, 3)], ignore_index=True)
    return write_suite(propose_suite(reference, config), tmp_path_factory.mktemp("suite") / "s.json")


@pytest.mark.parametrize("month", [4, 7, 9, 12])
def test_later_months_of_growth_and_seasons_pass(suite, month):
    report = validate_batch(demand_month(month), suite, f"m{month}.csv")
    assert report.success, report.summary()


def test_a_new_store_in_a_small_share_passes(suite):
    frame = demand_month(6)
    frame.loc[:3, "store"] = "west"
    assert validate_batch(frame, suite, "new-store.csv").success


@pytest.mark.parametrize(
    "breakage, column",
    [
        (lambda f: f.rename(columns={"temp": "temperature"}), "temp"),
        (lambda f: f.assign(price=f["price"].mask(f.index % 3 == 0)), "price"),
        (lambda f: f.assign(visitors=f["visitors"].where(f.index % 10 != 0, -f["visitors"])), "visitors"),
        (lambda f: f.assign(temp=f["temp"] * 10), "temp"),
        (lambda f: f.assign(ts=f["ts"] + pd.Timedelta(days=3650 * 3)), "ts"),
    ],
    ids=["renamed", "nulls", "negative-despite-declared-bounds", "unit-slip", "future"],
)
def test_broken_batches_still_fail(suite, breakage, column):
    report = validate_batch(breakage(demand_month(8)), suite, "broken.csv")
    assert not report.success
    assert column in {f.column for f in report.failures}, report.summary()


def test_a_warn_expectation_reports_and_lets_the_batch_through(suite, tmp_path):
    raw = json.loads(suite.read_text())
    for item in raw["expectations"]:
        if item["kwargs"].get("column") == "visitors" and item["type"] == "expect_column_values_to_be_between":
            item["meta"]["severity"] = "warn"
    relaxed = tmp_path / "relaxed.json"
    relaxed.write_text(json.dumps(raw))
    frame = demand_month(8)
    frame["visitors"] = -frame["visitors"]
    report = validate_batch(frame, relaxed, "warned.csv")
    assert report.success and report.failures == []
    assert {(w.expectation, w.column) for w in report.warnings} == {("expect_column_values_to_be_between", "visitors")}
    assert f"{len(report.warnings)} warning(s)" in report.summary()
    assert report.to_dict()["warnings"][0]["column"] == "visitors"
    assert not validate_batch(frame, suite, "strict.csv").success


def test_an_unknown_severity_is_refused(suite, tmp_path):
    from monitoring.validation import SuiteError

    raw = json.loads(suite.read_text())
    raw["expectations"][0]["meta"]["severity"] = "fatal"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(SuiteError, match="severity"):
        validate_batch(demand_month(4), path, "x.csv")
    raw["expectations"][0]["meta"]["severity"] = "warn"
    raw["expectations"][0]["kwargs"]["max_value"] = {"$PARAMETER": "now"}
    path.write_text(json.dumps(raw))
    with pytest.raises(SuiteError, match="unknown suite parameter"):
        validate_batch(demand_month(4), path, "x.csv")


def test_suite_check_replays_every_batch_and_names_what_fails(tmp_path):
    import yaml
    from typer.testing import CliRunner

    from base.settings import load_config
    from retrain.cli import app

    (tmp_path / "batches").mkdir()
    for month in (1, 2, 3, 9):
        demand_month(month).to_csv(tmp_path / "batches" / f"m{month:02d}.csv", index=False)
    broken = demand_month(10).rename(columns={"temp": "temperature"})
    broken.to_csv(tmp_path / "batches" / "m10-broken.csv", index=False)
    path = tmp_path / "demand.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "demand",
                "task": "regression",
                "validation": {"suite": "demand.suite.json"},
                "estimator": {"class_path": "sklearn.linear_model.Ridge"},
                "data": {"path": "batches/*.csv", "timestamp_column": "ts", "target_column": "demand"},
                "state": {"home": str(tmp_path / "home")},
            }
        )
    )
    reference = pd.concat([demand_month(m) for m in (1, 2, 3)], ignore_index=True)
    write_suite(propose_suite(reference, load_config(path)), tmp_path / "demand.suite.json")

    result = CliRunner().invoke(app, ["suite", "check", str(path), "--json"])
    assert result.exit_code == 3, result.output
    report = json.loads(result.stdout)
    verdicts = {b["batch"]: b["verdict"] for b in report["batches"]}
    assert verdicts == {
        "m01.csv": "passes",
        "m02.csv": "passes",
        "m03.csv": "passes",
        "m09.csv": "passes",
        "m10-broken.csv": "quarantined",
    }
    assert report["totals"] == {"batches": 5, "would_quarantine": 1}
    first = report["expectations"][0]
    assert first["severity"] == "error" and first["column"] == "temp"
    assert [hit["batch"] for hit in first["batches"]] == ["m10-broken.csv"]
    table = CliRunner().invoke(app, ["suite", "check", str(path)])
    assert "m10-broken.csv" in table.output and "1 of 5 batch(es) would be quarantined" in table.output
    assert list(tmp_path.glob("home/quarantine/**/*")) == []  # nothing moved
    assert report["severity_changes"] == []  # a suite proposed today: nothing to change


def test_suite_check_names_the_rules_an_older_suite_marks_too_strictly(suite, tmp_path):
    """A suite from before shift and breakage were told apart: ranges and category sets at error."""
    import yaml
    from typer.testing import CliRunner

    from retrain.cli import app

    raw = json.loads(suite.read_text())
    old = []
    for item in raw["expectations"]:
        shift_rule = item["meta"]["severity"] == "warn" and item["kwargs"].get("column") in ("temp", "store")
        if item["meta"]["severity"] == "error" and "unit or encoding" in item["meta"]["note"] + " garbled":
            continue  # the broken rules did not exist
        old.append(item | {"meta": item["meta"] | {"severity": "error"}} if shift_rule else item)
    (tmp_path / "batches").mkdir()
    for month in (1, 2, 3, 8):
        demand_month(month).to_csv(tmp_path / "batches" / f"m{month:02d}.csv", index=False)
    (tmp_path / "old.suite.json").write_text(json.dumps(raw | {"expectations": old}))
    config = {
        "name": "demand",
        "task": "regression",
        "validation": {"suite": "old.suite.json", "bounds": {"visitors": [0, None]}},
        "estimator": {"class_path": "sklearn.linear_model.Ridge"},
        "data": {"path": "batches/*.csv", "timestamp_column": "ts", "target_column": "demand"},
        "state": {"home": str(tmp_path / "home")},
    }
    (tmp_path / "demand.yaml").write_text(yaml.safe_dump(config))

    result = CliRunner().invoke(app, ["suite", "check", str(tmp_path / "demand.yaml"), "--json"])
    found = json.loads(result.stdout)
    assert "severity_changes" in found, result.output
    changes = {(c["expectation"], c["column"], c["current"], c["proposed"]) for c in found["severity_changes"]}
    assert changes == {
        ("expect_column_values_to_be_between", "temp", "error", "warn"),
        ("expect_column_values_to_be_in_set", "store", "error", "warn"),
    }
    table = CliRunner().invoke(app, ["suite", "check", str(tmp_path / "demand.yaml")])
    assert "would now propose otherwise" in table.output and "suite init CONFIG --overwrite" in table.output


def test_an_old_range_at_error_is_matched_to_the_shift_rule_whatever_its_mostly(suite):
    """An old range tightened by hand to every row (mostly 1.0) is still the statistical range, not
    the gross-outlier rule whose ``mostly`` happens to be nearer; declared bounds stay error."""
    from monitoring.suite_check import severity_changes

    proposed = json.loads(suite.read_text())["expectations"]
    shift = next(e for e in proposed if e["kwargs"].get("column") == "temp" and e["meta"]["severity"] == "warn")
    old_range = {
        "type": shift["type"],
        "kwargs": {k: v for k, v in shift["kwargs"].items() if k != "mostly"},
        "meta": {"note": "old", "severity": "error"},
    }
    bound = next(e for e in proposed if "validation.bounds" in e["meta"]["note"])
    fresh = [e for e in proposed if e["meta"]["severity"] == "error"]

    [change] = severity_changes([old_range, bound], proposed)

    assert (change.expectation, change.column, change.current, change.proposed) == (
        "expect_column_values_to_be_between",
        "temp",
        "error",
        "warn",
    )
    assert "a shift, not an error" in change.note
    assert severity_changes(fresh, proposed) == []


def test_suite_init_turns_declared_bounds_into_error_rules_and_refuses_a_bound_on_no_column(tmp_path):
    import yaml
    from typer.testing import CliRunner

    from retrain.cli import app

    (tmp_path / "batches").mkdir()
    for month in (1, 2, 3):
        demand_month(month).to_csv(tmp_path / "batches" / f"m{month:02d}.csv", index=False)
    config = {
        "name": "demand",
        "task": "regression",
        "validation": {"suite": "demand.suite.json", "bounds": {"visitors": [0, None], "price": [0, 100]}},
        "data": {"path": "batches/*.csv", "timestamp_column": "ts", "target_column": "demand"},
        "state": {"home": str(tmp_path / "home")},
    }
    path = tmp_path / "demand.yaml"
    path.write_text(yaml.safe_dump(config))

    result = CliRunner().invoke(app, ["suite", "init", str(path), "--json"])

    assert result.exit_code == 0, result.output
    rules = json.loads((tmp_path / "demand.suite.json").read_text())["expectations"]
    declared = {r["kwargs"]["column"]: r for r in rules if "validation.bounds" in r["meta"]["note"]}
    assert {c: (r["kwargs"].get("min_value"), r["kwargs"].get("max_value")) for c, r in declared.items()} == {
        "price": (0, 100),
        "visitors": (0, None),
    }
    assert all(r["meta"]["severity"] == "error" and "mostly" not in r["kwargs"] for r in declared.values())

    config["validation"] |= {"suite": "other.suite.json", "bounds": {"vistors": [0, None], "store": [0, 1]}}
    path.write_text(yaml.safe_dump(config))
    refused = CliRunner().invoke(app, ["suite", "init", str(path), "--json"])

    assert refused.exit_code == 2, refused.output
    error = json.loads(refused.stdout)["error"]
    assert error["field"] == "validation.bounds" and error["kind"] == "config"
    assert "validation.bounds.vistors: no column 'vistors'" in error["message"]
    assert "validation.bounds.store: column 'store' holds" in error["message"]
    assert not (tmp_path / "other.suite.json").exists()
