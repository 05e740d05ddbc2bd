"""Time split: the holdout is the most recent window, train is strictly before it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from training.data import DataError
from training.split import Split, split_by_time


def daily_frame(days: int = 100, shuffle: bool = False) -> pd.DataFrame:
    """One row per day at noon; day i has value i, so rows can be traced through the split."""
    ts = pd.Timestamp("2026-01-01 12:00", tz="UTC") + pd.to_timedelta(np.arange(days), unit="D")
    df = pd.DataFrame({"ts": ts, "day": np.arange(days), "y": np.arange(days) % 2})
    return df.sample(frac=1, random_state=1) if shuffle else df


def small_window(make_config, **window):
    return make_config(window={"min_train_rows": 5, "min_holdout_rows": 5, **window})


def test_holdout_is_last_days_and_train_precedes_it(make_config):
    split = split_by_time(daily_frame(), small_window(make_config, holdout_days=10))
    # max is day 99; the cutoff (day 89) itself still belongs to train
    assert split.holdout["day"].tolist() == list(range(90, 100))
    assert split.train["day"].tolist() == list(range(0, 90))
    assert split.train["ts"].max() < split.holdout["ts"].min()
    assert (split.train_rows, split.holdout_rows) == (90, 10)


def test_train_days_limits_history(make_config):
    split = split_by_time(daily_frame(), small_window(make_config, holdout_days=10, train_days=30))
    assert split.train["day"].tolist() == list(range(60, 90))


def test_rows_come_out_in_time_order(make_config):
    split = split_by_time(daily_frame(shuffle=True), small_window(make_config, holdout_days=10))
    assert split.train["ts"].is_monotonic_increasing
    assert split.holdout["ts"].is_monotonic_increasing
    assert list(split.train.index) == list(range(len(split.train)))


def test_bounds_are_iso_strings_matching_the_data(make_config):
    split = split_by_time(daily_frame(), small_window(make_config, holdout_days=10))
    assert pd.Timestamp(split.train_start) == split.train["ts"].min()
    assert pd.Timestamp(split.train_end) == split.train["ts"].max()
    assert pd.Timestamp(split.holdout_start) == split.holdout["ts"].min()
    assert pd.Timestamp(split.holdout_end) == split.holdout["ts"].max()
    assert pd.Timestamp(split.cutoff) == split.holdout["ts"].max() - pd.Timedelta(days=10)


def test_to_dict_has_no_frames_and_is_json(make_config):
    split = split_by_time(daily_frame(), small_window(make_config, holdout_days=10))
    data = split.to_dict()
    assert "train" not in data and "holdout" not in data
    assert data["train_rows"] == 90 and data["holdout_rows"] == 10
    assert json.loads(json.dumps(data)) == data
    assert isinstance(split, Split)


def test_too_few_training_rows(make_config):
    config = make_config(window={"holdout_days": 10, "train_days": 3, "min_train_rows": 5, "min_holdout_rows": 5})
    with pytest.raises(DataError) as info:
        split_by_time(daily_frame(), config)
    assert "min_train_rows=5" in info.value.reason
    assert "has 3 rows" in info.value.reason
    assert "min_holdout_rows" not in info.value.reason


def test_too_few_holdout_rows(make_config):
    config = make_config(window={"holdout_days": 3, "min_train_rows": 5, "min_holdout_rows": 5})
    with pytest.raises(DataError) as info:
        split_by_time(daily_frame(), config)
    assert "min_holdout_rows=5" in info.value.reason
    assert "min_train_rows" not in info.value.reason


def test_both_sides_too_small_reports_both(make_config):
    config = make_config(window={"holdout_days": 5, "min_train_rows": 500, "min_holdout_rows": 50})
    with pytest.raises(DataError) as info:
        split_by_time(daily_frame(), config)
    assert "min_train_rows=500" in info.value.reason
    assert "min_holdout_rows=50" in info.value.reason


def test_string_timestamps_are_parsed(make_config):
    df = daily_frame()
    df["ts"] = df["ts"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    split = split_by_time(df, small_window(make_config, holdout_days=10))
    assert split.holdout_rows == 10
