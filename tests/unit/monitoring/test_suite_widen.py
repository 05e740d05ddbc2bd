"""Widening a suite admits exactly what a released batch failed on, and keeps the old version."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd

from monitoring.suite_widen import widen_suite
from monitoring.validation import propose_suite, validate_batch, write_suite

WHO = {"by": "ana@host", "reason": "new season", "batch": "b.csv"}


def test_each_kind_of_failure_is_widened_as_far_as_the_batch_needs(batch, config, tmp_path):
    path = write_suite(propose_suite(batch, config), tmp_path / "suite.json")
    broken = batch.copy()
    broken["carrier"] = [f"Z{i % 7}" for i in range(len(broken))]  # garbled for the suite: all unseen
    broken.loc[:9, "distance"] = broken.loc[:9, "distance"] * 1000  # far beyond the spread
    broken.loc[: len(broken) // 2, "temp"] = None  # a wave of nulls
    before = validate_batch(broken, path, "b.csv")
    assert {f.column for f in before.failures} == {"carrier", "distance", "temp"}

    widening = widen_suite(path, broken, before.failures, WHO)

    after = validate_batch(broken, path, "b.csv")
    assert after.success, after.summary()
    assert "carrier" not in {w.column for w in after.warnings}  # the warn companion admits them too
    assert widening.version == 2 and widening.previous == "suite.v1.json" and widening.not_widened == ()
    assert any(c.startswith("carrier: admits 'Z0'") for c in widening.changes)
    assert any(c.startswith("distance: range") and "max" in c for c in widening.changes)
    assert any(c.startswith("temp: nulls allowed") for c in widening.changes)
    old = tmp_path / "suite.v1.json"
    assert not validate_batch(broken, old, "b.csv").success  # the old version, kept as it was
    meta = json.loads(path.read_text())["meta"]
    assert meta["version"] == 2 and meta["versions"][-1]["by"] == "ana@host"
    assert meta["versions"][-1]["reason"] == "new season" and meta["versions"][-1]["previous"] == "suite.v1.json"
    assert datetime.fromisoformat(meta["versions"][-1]["at"]) <= datetime.now(UTC)
    assert validate_batch(batch, path, "good.csv").success  # still admits what it admitted


def test_what_cannot_be_widened_is_said_and_the_suite_is_left_alone(batch, config, tmp_path):
    path = write_suite(propose_suite(batch, config), tmp_path / "suite.json")
    text = path.read_text()
    renamed = batch.rename(columns={"distance": "dist"})
    failures = validate_batch(renamed, path, "r.csv").failures

    widening = widen_suite(path, renamed, failures, WHO)

    assert widening.changes == () and widening.version == 1 and widening.previous is None
    assert any("expect_column_to_exist(distance)" in m for m in widening.not_widened)
    assert path.read_text() == text and not (tmp_path / "suite.v1.json").exists()


def test_a_second_widening_keeps_every_version(batch, config, tmp_path):
    path = write_suite(propose_suite(batch, config), tmp_path / "suite.json")
    for round_, code in enumerate(("Q1", "Q2"), start=2):
        frame = batch.assign(carrier=pd.Series([code] * len(batch)))
        widen_suite(path, frame, validate_batch(frame, path, "x.csv").failures, WHO)
        assert json.loads(path.read_text())["meta"]["version"] == round_
    assert sorted(p.name for p in tmp_path.glob("suite.v*.json")) == ["suite.v1.json", "suite.v2.json"]
    assert "Q1" in json.loads((tmp_path / "suite.v2.json").read_text())["expectations"].__repr__()


def test_an_integer_column_arriving_as_floats_admits_floats_and_text_does_not(batch, config, tmp_path):
    path = write_suite(propose_suite(batch, config), tmp_path / "suite.json")
    floats = batch.assign(distance=batch["distance"].astype(float) + 0.5)
    failures = validate_batch(floats, path, "f.csv").failures
    assert "expect_column_values_to_be_in_type_list(distance)" in [f.label() for f in failures]

    widening = widen_suite(path, floats, failures, WHO)

    assert "distance: types admit float64" in widening.changes
    assert validate_batch(floats, path, "f.csv").success
    texts = batch.assign(distance=[f"d{i}" for i in range(len(batch))])
    failures = validate_batch(texts, path, "t.csv").failures
    refused = widen_suite(path, texts, failures, WHO)
    assert any(m.startswith("expect_column_values_to_be_in_type_list(distance)") for m in refused.not_widened)
    assert not validate_batch(texts, path, "t.csv").success


def test_a_changed_column_set_asks_only_for_the_shared_columns(batch, config, tmp_path):
    suite = propose_suite(batch, config)
    for rule in suite["expectations"]:
        if rule["type"] == "expect_table_columns_to_match_set":
            rule["meta"]["severity"] = "error"  # a team that wants every column change to stop a run
    path = write_suite(suite, tmp_path / "suite.json")
    changed = batch.drop(columns=["flight"]).assign(gate=1)
    failures = validate_batch(changed, path, "c.csv").failures
    assert [f.label() for f in failures] == ["expect_table_columns_to_match_set"]

    widening = widen_suite(path, changed, failures, WHO)

    assert widening.changes == ("columns: no longer requires flight; admits the added gate",)
    assert validate_batch(changed, path, "c.csv").success and validate_batch(batch, path, "b.csv").success
