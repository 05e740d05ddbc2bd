"""Widening a suite admits exactly what a released batch failed on, and keeps the old version."""

from __future__ import annotations

import json

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
    assert widening.version == 2 and widening.previous == "suite.v1.json" and widening.not_widened == ()
    assert any(c.startswith("carrier: admits 'Z0'") for c in widening.changes)
    assert any(c.startswith("distance: range") and "max" in c for c in widening.changes)
    assert any(c.startswith("temp: nulls allowed") for c in widening.changes)
    old = tmp_path / "suite.v1.json"
    assert not validate_batch(broken, old, "b.csv").success  # the old version, kept as it was
    meta = json.loads(path.read_text())["meta"]
    assert meta["version"] == 2 and meta["versions"][-1]["by"] == "ana@host"
    assert meta["versions"][-1]["reason"] == "new season" and meta["versions"][-1]["previous"] == "suite.v1.json"
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
