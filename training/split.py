"""Split by time, never at random.

The holdout is the most recent ``window.holdout_days`` of data: that is the data a
promoted model will face next, and a random split would leak the future into training
and flatter every candidate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from training.data import DataError, parse_timestamps
from training.types import Split

if TYPE_CHECKING:
    from base.settings import ModelConfig

__all__ = ["Split", "split_by_time"]


def split_by_time(df: pd.DataFrame, config: "ModelConfig") -> Split:
    """Holdout: timestamp > max − holdout_days. Train: before that, last ``train_days`` if set."""
    ts_col = config.data.timestamp_column
    window = config.window
    if ts_col not in df.columns:
        raise DataError(config.data_glob, f"missing timestamp column {ts_col!r}")
    if df.empty:
        raise DataError(config.data_glob, "no rows to split")
    ts = df[ts_col]
    if not pd.api.types.is_datetime64_any_dtype(ts):
        ts = parse_timestamps(ts, config.data_glob)
        df = df.assign(**{ts_col: ts})
    cutoff = ts.max() - pd.Timedelta(days=window.holdout_days)
    in_holdout = ts > cutoff
    in_train = ~in_holdout
    if window.train_days is not None:
        in_train &= ts > cutoff - pd.Timedelta(days=window.train_days)
    train = _sorted(df[in_train], ts_col)
    holdout = _sorted(df[in_holdout], ts_col)
    _check_sizes(train, holdout, config, cutoff)
    return Split(
        train=train,
        holdout=holdout,
        train_start=_iso(train[ts_col].min()),
        train_end=_iso(train[ts_col].max()),
        holdout_start=_iso(holdout[ts_col].min()),
        holdout_end=_iso(holdout[ts_col].max()),
        train_rows=len(train),
        holdout_rows=len(holdout),
        cutoff=_iso(cutoff),
    )


def _sorted(part: pd.DataFrame, ts_col: str) -> pd.DataFrame:
    """Stable time order so the same rows always reach the estimator in the same order."""
    return part.sort_values(ts_col, kind="stable").reset_index(drop=True)


def _check_sizes(train: pd.DataFrame, holdout: pd.DataFrame, config: "ModelConfig", cutoff: pd.Timestamp) -> None:
    window = config.window
    problems = []
    if len(train) < window.min_train_rows:
        span = f"the {window.train_days} days " if window.train_days else "all data "
        problems.append(
            f"training window ({span}up to {_iso(cutoff)}) has {len(train)} rows, "
            f"below window.min_train_rows={window.min_train_rows}"
        )
    if len(holdout) < window.min_holdout_rows:
        problems.append(
            f"holdout (the last {window.holdout_days} days, after {_iso(cutoff)}) has {len(holdout)} rows, "
            f"below window.min_holdout_rows={window.min_holdout_rows}"
        )
    if problems:
        raise DataError(config.data_glob, "; ".join(problems))


def _iso(value: pd.Timestamp) -> str:
    return pd.Timestamp(value).isoformat()
