"""Find batches whose timestamps cannot be true, before they break the time split.

The split takes the newest ``holdout_days`` as holdout and trains on the days before it.
One batch dated in 2099 makes every other row "old": the holdout holds only that batch and
the training window is empty, so every run fails until someone moves the file by hand. A
batch dated decades back silently joins the training data. A suite proposed by
``retrain suite init`` already rejects such dates; this check also protects models whose
suite has no timestamp range, and judges a batch against the other batches, which a
suite cannot do.

A batch is implausible when its timestamps cannot be parsed, when any of them lies in
the future (beyond a day of clock skew), or when its time span lies far from where most
rows are: batches are grouped so that consecutive groups are more than ``max_gap`` apart,
the group with the most rows is kept and the others are flagged. Pure: no Prefect, no
files; the caller quarantines with the returned reports.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from monitoring.types import ExpectationFailure, ValidationReport

if TYPE_CHECKING:
    from base.settings import ModelConfig

CHECK = "timestamps_plausible"
FUTURE_SLACK = pd.Timedelta(days=1)
MIN_GAP = pd.Timedelta(days=365)


def max_gap(config: "ModelConfig") -> pd.Timedelta:
    """How far apart two batches may be: the whole window (train + holdout), a year at least."""
    window = config.window
    span = pd.Timedelta(days=(window.train_days or 0) + window.holdout_days)
    return max(span, MIN_GAP)


def find_implausible(
    intakes: list[Any], config: "ModelConfig", now: pd.Timestamp | None = None
) -> dict[str, ValidationReport]:
    """Reports for the accepted batches whose timestamps are implausible, keyed by file path.

    ``intakes`` are objects with ``path`` and ``frame`` (``monitoring.intake.Intake``);
    batches without a frame are skipped (intake already failed them).
    """
    now = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    column = config.data.timestamp_column
    reports: dict[str, ValidationReport] = {}
    spans: dict[str, tuple[pd.Timestamp, pd.Timestamp, int]] = {}
    for intake in intakes:
        if intake.frame is None:
            continue
        name, frame = intake.path.name, intake.frame
        stamps = to_utc(frame[column]) if column in frame.columns else None
        problem = describe_problem(stamps, column, now)
        if problem is not None:
            reports[str(intake.path)] = report(name, len(frame), column, *problem)
        elif stamps is not None:
            spans[str(intake.path)] = (stamps.min(), stamps.max(), len(frame))
    for path, (first, last, rows) in far_from_the_rest(spans, max_gap(config)).items():
        details = (
            f"timestamps from {first.isoformat()} to {last.isoformat()} lie more than "
            f"{max_gap(config).days} days from the other batches"
        )
        reports[path] = report(Path(path).name, rows, column, rows, details)
    return reports


def to_utc(values: pd.Series) -> pd.Series:
    """Timestamps as tz-aware UTC; values that do not parse become NaT."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.tz_localize("UTC") if values.dt.tz is None else values.dt.tz_convert("UTC")
    return pd.to_datetime(values, utc=True, errors="coerce", format="mixed")


def describe_problem(stamps: pd.Series | None, column: str, now: pd.Timestamp) -> tuple[int, str] | None:
    """(rows affected, what is wrong) for one batch on its own, or None when it looks sound."""
    if stamps is None:
        return 0, f"no timestamp column {column!r}"
    missing = int(stamps.isna().sum())
    if missing:
        return missing, f"{missing} of {len(stamps)} timestamps are missing or unparseable"
    future = stamps > now + FUTURE_SLACK
    if future.any():
        ahead = stamps[future]
        return len(ahead), (
            f"{len(ahead)} of {len(stamps)} timestamps are in the future: {ahead.min().isoformat()}"
            f" to {ahead.max().isoformat()} (now {now.isoformat()})"
        )
    return None


def far_from_the_rest(
    spans: dict[str, tuple[pd.Timestamp, pd.Timestamp, int]], gap: pd.Timedelta
) -> dict[str, tuple[pd.Timestamp, pd.Timestamp, int]]:
    """The batches outside the largest group of batches lying within ``gap`` of each other."""
    if len(spans) < 2:
        return {}
    ordered = sorted(spans.items(), key=lambda item: (item[1][0], item[1][1]))
    groups: list[list[str]] = [[ordered[0][0]]]
    reach = ordered[0][1][1]
    for path, (first, last, _) in ordered[1:]:
        if first - reach > gap:
            groups.append([])
        groups[-1].append(path)
        reach = max(reach, last)
    rows = [sum(spans[path][2] for path in group) for group in groups]
    keep = max(range(len(groups)), key=lambda index: (rows[index], index))  # ties: the newest group
    return {path: spans[path] for index, group in enumerate(groups) if index != keep for path in group}


def report(batch: str, rows: int, column: str, affected: int, details: str) -> ValidationReport:
    """A failed report in the same shape as a suite failure, so quarantine and output reuse it."""
    percent = round(100.0 * affected / rows, 4) if rows else None
    failure = ExpectationFailure(CHECK, column, affected, percent, details)
    return ValidationReport(
        batch=batch,
        success=False,
        rows=rows,
        evaluated=1,
        failures=[failure],
        error=None,
        suite="retrain timestamp check",
    )
