"""A batch whose dates would break the time split is quarantined with a report; the next run trains.

Before, a month dated 2099 passed the suite and then the split failed ("training window …
has 0 rows") on every run, the file never leaving ``batches/``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from base.settings import load_config

pytestmark = pytest.mark.integration


def drop_timestamp_range(config) -> None:
    """A suite written before ``suite init`` proposed a timestamp range (or edited without one)."""
    suite = json.loads(config.suite_path.read_text())
    suite["expectations"] = [
        e for e in suite["expectations"] if not (e["kwargs"].get("column") == "ts" and "between" in e["type"])
    ]
    config.suite_path.write_text(json.dumps(suite))


def dated(synth, start: str) -> pd.DataFrame:
    frame = synth.make_month(4)
    stamps = pd.date_range(start, periods=len(frame), freq="h", tz="UTC")
    return frame.assign(ts=stamps.strftime("%Y-%m-%dT%H:%M:%SZ"))


def report_of(moved: Path) -> dict:
    return json.loads(moved.with_name(moved.name + ".report.json").read_text())


@pytest.mark.parametrize("start, words", [("2099-01-01", "in the future"), ("1970-01-01", "from the other batches")])
def test_the_plausibility_check_quarantines_what_the_suite_let_through(workspace, synth, start, words):
    config = load_config(workspace)
    drop_timestamp_range(config)
    bad = workspace.parent / "batches" / "m99.csv"
    dated(synth, start).to_csv(bad, index=False)

    outcome = synth.run_flow(workspace)
    assert outcome["status"] == "data_invalid" and outcome.get("version") is None
    [moved] = [Path(p) for p in outcome["quarantined"]]
    assert not bad.exists() and moved.is_file() and moved.parent == config.quarantine_dir
    [failure] = report_of(moved)["failures"]
    assert failure["expectation"] == "timestamps_plausible" and failure["column"] == "ts"
    assert words in failure["details"]

    again = synth.run_flow(workspace)  # the rest is fine: the next run trains and promotes
    assert again["status"] == "promoted", again.get("message")


def test_the_proposed_suite_catches_a_future_batch_first(workspace, synth):
    bad = workspace.parent / "batches" / "m99.csv"
    dated(synth, "2099-01-01").to_csv(bad, index=False)
    outcome = synth.run_flow(workspace)
    assert outcome["status"] == "data_invalid"
    [moved] = [Path(p) for p in outcome["quarantined"]]
    failures = report_of(moved)["failures"]
    assert [(f["expectation"], f["column"]) for f in failures] == [("expect_column_values_to_be_between", "ts")]
    assert "2099-01-01" in failures[0]["details"]
