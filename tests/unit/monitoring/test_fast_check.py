"""The fast path (the suite evaluated in pandas) gives GX's report, batch for batch.

Each batch goes through both: real GX (``validate_items``) and ``fast_check.evaluate_plan`` with
the same report builder. Reports must be equal field for field (verdict, failed, warned and
skipped rules, counts, messages). Suites: the demo's, and suites ``propose_suite`` infers from
scikit-learn's bundled wine and breast-cancer data. Batches: valid ones of 1, 5 and 100 rows and
a whole month, nulls, new and garbled categories, out-of-range values and unit slips, wrong
types, missing and extra columns, dates from the future, an empty batch. Where the fast path
does not mirror GX (a string compared with a number), it must say so (``Unsure``) and
``validate_rows`` must then give GX's report.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from monitoring import fast_check
from monitoring.fast_rules import Unsure
from monitoring.suites import LATEST_TIMESTAMP_PARAMETER
from monitoring.validation import build_report, propose_suite, validate_items
from retrain.demo.workspace import load_flights
from tests.unit.monitoring.conftest import build_config
from training.data import parse_timestamps

DEMO_SUITE = Path(__file__).resolve().parents[3] / "examples/flights-late/flights-late.suite.json"
WHOLE_SUITE = {"100 rows", "missing column", "1 row, all null"}  # also with the target's rules; else as scoring does
FIXED_NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    """Both paths read the same 'now' (the suite's latest plausible timestamp), so messages compare."""
    values = lambda: {LATEST_TIMESTAMP_PARAMETER: FIXED_NOW}  # noqa: E731
    monkeypatch.setattr("monitoring.suites.run_parameters", values)
    monkeypatch.setattr("monitoring.validation.run_parameters", values)


def both(frame: pd.DataFrame, suite_path, without: str | None):
    """GX's report, and the fast path's (None where the fast path defers to GX)."""
    plan = fast_check.plan_for(suite_path, without)
    gx = validate_items(frame, plan.path, plan.name, plan.items, plan.digest, "b")
    try:
        fast = build_report(frame, plan.name, plan.items, fast_check.evaluate_plan(frame, plan), "b")
    except Unsure:
        fast = None
    return gx, fast


def variants(frame: pd.DataFrame, numbers: list[str], words: list[str], time: str, seed: int = 0):
    """(name, batch, whether the fast path must answer it itself) for one dataset."""
    rng = np.random.default_rng(seed)
    base = frame.sample(100, random_state=seed).reset_index(drop=True)
    num, word = numbers[0], words[0] if words else None
    yield "1 row", base.head(1), True
    yield "5 rows", base.head(5), True
    yield "100 rows", base, True
    yield "nulls in 30% of rows", base.assign(**{num: base[num].mask(rng.random(100) < 0.3)}), True
    yield "1 row, all null", base.head(1).assign(**{num: None, numbers[-1]: np.nan}), True
    yield "out of range in 1 of 100", base.assign(**{num: base[num].where(base.index != 3, 1e9)}), True
    yield "unit slip x1000", base.assign(**{n: base[n] * 1000 for n in numbers[:3]}), True
    yield "negative values", base.assign(**{num: -base[num].abs() - 1}), True
    yield "1 row out of range", base.head(1).assign(**{num: 1e12}), True
    yield "int as float", base.assign(**{n: base[n].astype(float) for n in numbers}), True
    yield "missing column", base.drop(columns=[num]), True
    yield "extra column", base.assign(surprise=1), True
    yield "future dates", base.assign(**{time: pd.Timestamp("2031-01-01", tz="UTC")}), True
    yield "empty", base.head(0), True
    yield "numbers as text", base.assign(**{num: base[num].astype(str)}), False
    yield (
        "one text in a number column",
        base.assign(**{num: base[num].astype(object).where(base.index != 0, "x")}),
        False,
    )
    if word is not None:
        yield "new category in 3 rows", base.assign(**{word: base[word].where(base.index > 2, "NEW")}), True
        yield "garbled category", base.assign(**{word: base[word].where(base.index > 60, "??")}), True
        yield "1 row, new category", base.head(1).assign(**{word: "NEW"}), True
        yield "null category", base.assign(**{word: base[word].where(base.index > 2, None)}), True
        yield "category as numbers", base.assign(**{word: 7}), True


def mismatches(frame, suite_path, target, numbers, words, time, extra=()):
    found, deferred = [], []
    for name, batch, must_be_fast in [*variants(frame, numbers, words, time), *extra]:
        for without in (target, None) if name in WHOLE_SUITE else (target,):
            gx, fast = both(batch, suite_path, without)
            if fast is None:
                deferred.append(name)
                if must_be_fast:
                    found.append(f"{name}: the fast path deferred to GX")
                fast = fast_check.validate_rows(batch, suite_path, "b", without)
            if fast != gx:
                found.append(f"{name} (without {without}):\n  GX   {gx}\n  fast {fast}")
    return found, deferred


def test_the_demo_suite_on_real_flights_agrees_with_gx():
    flights = load_flights()
    flights["time_hour"] = parse_timestamps(flights["time_hour"], "flights")
    december = flights[flights["time_hour"].dt.month == 12].reset_index(drop=True)
    numbers = ["distance", "dep_delay", "temp", "air_time"]
    extra = [
        ("the whole of December", december, True),
        ("a nullable integer column", december.head(100).assign(hour=december["hour"].head(100).astype("Int64")), True),
        (
            "a string dtype column",
            december.head(100).assign(carrier=december["carrier"].head(100).astype("string")),
            True,
        ),
    ]
    found, deferred = mismatches(flights, DEMO_SUITE, "late", numbers, ["carrier", "origin"], "time_hour", extra)
    assert not found, "\n".join(found)
    assert set(deferred) == {"numbers as text", "one text in a number column"}


@pytest.mark.parametrize("dataset", ["wine", "breast_cancer"])
def test_suites_inferred_on_scikit_learn_data_agree_with_gx(dataset, tmp_path):
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{dataset}")(as_frame=True)
    frame = bunch.frame.rename(columns=lambda c: str(c).replace(" ", "_"))
    numbers = [str(c) for c in frame.columns if c != "target"][:4]
    first = frame[numbers[0]]
    frame["grade"] = np.where(first > first.median(), "high", "low")  # a category column, as the data has none
    frame["ts"] = pd.date_range("2024-01-01", periods=len(frame), freq="h", tz="UTC")
    task = "multiclass" if dataset == "wine" else "binary"
    config = build_config(task, target_column="target", exclude=[])
    suite_path = tmp_path / f"{dataset}.suite.json"
    suite_path.write_text(json.dumps(propose_suite(frame, config), default=str))
    found, deferred = mismatches(frame, suite_path, "target", numbers, ["grade"], "ts")
    assert not found, "\n".join(found)
    assert set(deferred) == {"numbers as text", "one text in a number column"}


def test_a_suite_with_an_unknown_rule_goes_to_gx_and_says_so_once(tmp_path, caplog):
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    suite = {
        "name": "odd",
        "expectations": [
            {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "x"}, "meta": {}},
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "x"}, "meta": {}},
        ],
    }
    path = tmp_path / "odd.suite.json"
    path.write_text(json.dumps(suite))
    with caplog.at_level(logging.WARNING, logger="monitoring.fast_check"):
        first = fast_check.validate_rows(frame, path, "b")
        second = fast_check.validate_rows(frame.assign(x=[1.0, 1.0, None]), path, "b")
    assert first.success and first.evaluated == 2
    assert not second.success and {f.expectation for f in second.failures} == {
        "expect_column_values_to_be_unique",
        "expect_column_values_to_not_be_null",
    }
    said = [r.getMessage() for r in caplog.records if "no fast check" in r.getMessage()]
    assert len(said) == 1 and "expect_column_values_to_be_unique" in said[0]


def test_a_suite_edited_while_serving_is_read_again(tmp_path):
    path = tmp_path / "s.suite.json"
    rule = lambda high: {"type": "expect_column_values_to_be_between", "kwargs": {"column": "x", "max_value": high}}  # noqa: E731
    path.write_text(json.dumps({"name": "s", "expectations": [rule(10)]}))
    frame = pd.DataFrame({"x": [5.0, 50.0]})
    assert not fast_check.validate_rows(frame, path, "b").success
    path.write_text(json.dumps({"name": "s", "expectations": [rule(100.5)]}))
    assert fast_check.validate_rows(frame, path, "b").success
