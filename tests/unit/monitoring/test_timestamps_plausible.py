"""find_implausible flags batches whose dates would break the time split, and only those."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from base.settings import ModelConfig
from monitoring.timestamps import CHECK, find_implausible, max_gap

NOW = pd.Timestamp("2026-11-01T12:00:00Z")


def month(make_batch, start: str, rows: int = 200, seed: int = 0) -> pd.DataFrame:
    frame = make_batch(rows=rows, seed=seed)
    return frame.assign(ts=pd.date_range(start, periods=rows, freq="h", tz="UTC"))


def intakes(**frames: pd.DataFrame | None) -> list[SimpleNamespace]:
    return [SimpleNamespace(path=Path(f"/data/batches/{name}.csv"), frame=frame) for name, frame in frames.items()]


def flagged(found: dict) -> set[str]:
    return {Path(path).stem for path in found}


def test_ordinary_months_pass(make_batch, config):
    batches = intakes(
        m1=month(make_batch, "2026-07-01"), m2=month(make_batch, "2026-08-01"), m3=month(make_batch, "2026-09-01")
    )
    assert find_implausible(batches, config, now=NOW) == {}


def test_a_batch_dated_2099_is_flagged_with_a_report(make_batch, config):
    batches = intakes(
        m1=month(make_batch, "2026-08-01"),
        m2=month(make_batch, "2026-09-01"),
        bad=month(make_batch, "2099-01-01", rows=50),
    )
    found = find_implausible(batches, config, now=NOW)
    assert flagged(found) == {"bad"}
    report = found["/data/batches/bad.csv"]
    assert report.batch == "bad.csv" and not report.success and report.rows == 50
    (failure,) = report.failures
    assert failure.expectation == CHECK and failure.column == "ts" and failure.unexpected_count == 50
    assert "in the future" in failure.details and "2099-01-01" in failure.details


def test_a_lone_batch_in_the_future_is_flagged_too(make_batch, config):
    assert flagged(find_implausible(intakes(only=month(make_batch, "2027-03-01")), config, now=NOW)) == {"only"}


def test_a_day_of_clock_skew_is_tolerated(make_batch, config):
    frame = month(make_batch, "2026-10-01", rows=24 * 31 + 12)  # ends 2026-11-01 11:00, an hour before now
    late = frame.assign(ts=frame["ts"] + pd.Timedelta(hours=20))  # 19 hours ahead of now: within a day
    assert find_implausible(intakes(m=late), config, now=NOW) == {}


def test_a_batch_far_behind_the_others_is_flagged(make_batch, config):
    batches = intakes(
        old=month(make_batch, "1970-01-01", rows=300),
        m1=month(make_batch, "2026-08-01"),
        m2=month(make_batch, "2026-09-01"),
    )
    found = find_implausible(batches, config, now=NOW)
    assert flagged(found) == {"old"}
    assert (
        f"more than {max_gap(config).days} days from the other batches"
        in found["/data/batches/old.csv"].failures[0].details
    )


def test_a_gap_shorter_than_the_window_is_not_far(make_batch, config):
    batches = intakes(m1=month(make_batch, "2025-12-01"), m2=month(make_batch, "2026-09-01"))
    assert find_implausible(batches, config, now=NOW) == {}


def test_the_window_widens_what_counts_as_far(make_batch):
    two_years = ModelConfig.model_validate(
        {
            "name": "m",
            "task": "binary",
            "validation": {"suite": "s.json"},
            "data": {"path": "b/*.csv", "timestamp_column": "ts", "target_column": "late"},
            "window": {"train_days": 700, "holdout_days": 30},
        }
    )
    assert max_gap(two_years) == pd.Timedelta(days=730)
    batches = intakes(m1=month(make_batch, "2024-10-01"), m2=month(make_batch, "2026-09-01"))
    assert find_implausible(batches, two_years, now=NOW) == {}


def test_unparseable_timestamps_are_flagged(make_batch, config):
    raw = month(make_batch, "2026-09-01", rows=10).assign(ts=["2026-09-01T00:00:00Z"] * 9 + ["not a date"])
    found = find_implausible(intakes(m1=month(make_batch, "2026-08-01"), raw=raw), config, now=NOW)
    assert flagged(found) == {"raw"}
    assert "1 of 10 timestamps are missing or unparseable" in found["/data/batches/raw.csv"].failures[0].details


def test_batches_intake_could_not_read_are_left_alone(make_batch, config):
    batches = intakes(m1=month(make_batch, "2026-08-01"), unread=None)
    assert find_implausible(batches, config, now=NOW) == {}


@pytest.mark.parametrize("now", [None, NOW])
def test_the_clock_defaults_to_now(make_batch, config, now):
    batches = intakes(m1=month(make_batch, "2026-08-01"), bad=month(make_batch, "2099-01-01"))
    assert flagged(find_implausible(batches, config, now=now)) == {"bad"}
