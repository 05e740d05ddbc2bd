"""Propose an expectation suite from reference data, for a person to review and edit.

The proposal must stop broken data (a renamed or retyped column, a wave of nulls, impossible
values, a unit or encoding slip) and let honest change through, because a retrain needs
exactly the batches that differ from the past: more demand, a new season, a new route. So
every rule answers one of two questions (``monitoring.suite_rules`` says which and why):
*broken?* rules are ``error`` and quarantine the batch; *shifted?* rules (values beyond the
reference's range, new categories) are ``warn``: reported with the share of rows concerned,
left to the drift check and the gate. The target gets no range, and columns the model never
reads only warn. Limits the config declares (``validation.bounds``) become ``error`` rules.
Every expectation carries ``meta.note`` (what it was derived from) and ``meta.severity``.
The output is the JSON layout Great Expectations 1.x writes for an ExpectationSuite, so GX
tools can read it too.
"""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from monitoring.suite_rules import (
    category_rules,
    declared_bounds,
    expectation,
    gross_range,
    statistical_range,
    type_list,
    value_set,
)
from training.data import is_categorical, is_number

if TYPE_CHECKING:
    from base.settings import ModelConfig

RANGE_PAD = 1.0  # quantile spans added on each side of the statistical (warn) range
RANGE_MOSTLY = 0.98  # share of rows within the statistical range before a shift is reported
NULL_SLACK = 0.05  # share of rows by which nulls may exceed twice the reference null share
NEW_CATEGORY_SHARE = 0.02  # share of rows that may carry a new category before the shift is reported
MAX_CATEGORIES = 50  # above this many distinct values a column is not treated as categorical
SEVERITIES = ("error", "warn")
# Timestamps: none later than now plus a day of clock skew (a suite parameter set at each
# validation), none earlier than the reference's first day minus its span (at least a year).
LATEST_TIMESTAMP_PARAMETER = "latest_plausible_timestamp"
FUTURE_SLACK_SECONDS = 86_400
MIN_PAST_SLACK_DAYS = 365


def propose_suite(
    df: pd.DataFrame,
    config: ModelConfig,
    *,
    range_pad: float = RANGE_PAD,
    range_mostly: float = RANGE_MOSTLY,
    null_slack: float = NULL_SLACK,
    new_category_share: float = NEW_CATEGORY_SHARE,
    max_categories: int = MAX_CATEGORIES,
) -> dict[str, Any]:
    """Derive a GX suite dict from reference rows: schema, types, nulls, ranges, categories, time."""
    if df.empty:
        raise ValueError("cannot propose a suite from an empty frame: no rows to learn from")
    knobs = {
        "range_pad": range_pad,
        "range_mostly": range_mostly,
        "null_slack": null_slack,
        "new_category_share": new_category_share,
        "max_categories": max_categories,
    }
    expectations = [expectation("expect_table_row_count_to_be_between", {"min_value": 1}, "a batch must have rows")]
    expectations += _schema(df, config)
    for column in df.columns:
        role = _role(str(column), config)
        expectations += _propose_column(df[column], role, config, knobs)
    bounds = config.validation.bounds or {}
    expectations += [declared_bounds(name, bounds[name]) for name in sorted(bounds) if name in df.columns]
    meta = {"model": config.name, "task": config.task, "reference_rows": len(df), **knobs}
    return {"name": config.name, "expectations": expectations, "meta": meta}


def bound_problems(df: pd.DataFrame, config: ModelConfig) -> list[str]:
    """Declared bounds that cannot become a rule: a column the reference lacks (a typo would
    otherwise declare nothing) or one that does not hold numbers."""
    problems = []
    for name in sorted(config.validation.bounds or {}):
        if name not in df.columns:
            problems.append(f"validation.bounds.{name}: no column {name!r} in the reference data")
        elif not is_number(df[name]):
            problems.append(f"validation.bounds.{name}: column {name!r} holds {df[name].dtype}, not numbers")
    return problems


def _schema(df: pd.DataFrame, config: ModelConfig) -> list[dict[str, Any]]:
    """Columns the model reads must exist (error); any other change of the column set only warns."""
    names = [str(c) for c in df.columns]
    found = [
        expectation(
            "expect_table_columns_to_match_set",
            {"column_set": names, "exact_match": True},
            f"the {len(names)} reference columns; an added or dropped column the model does not read is reported only",
            "warn",
        )
    ]
    for name in names:
        role = _role(name, config)
        if role != "unused":
            found.append(expectation("expect_column_to_exist", {"column": name}, f"the {role} column", "error"))
    return found


def write_suite(suite: dict[str, Any], path: Path, *, overwrite: bool = False) -> Path:
    """Write stable, reviewable JSON; never clobber a suite someone may have edited."""
    path = Path(path)
    text = json.dumps(suite, indent=2, sort_keys=True, allow_nan=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not overwrite:
        try:
            with path.open("x", encoding="utf-8") as handle:
                handle.write(text)
        except FileExistsError:
            raise FileExistsError(f"{path}: suite already exists; pass overwrite=True to replace it") from None
        return path
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(text, encoding="utf-8")
    os.replace(scratch, path)
    return path


def run_parameters() -> dict[str, Any]:
    """Values a suite may name with ``{"$PARAMETER": name}``, fixed at validation time.

    ``latest_plausible_timestamp`` is now (UTC) plus a day of clock skew: the upper bound
    ``suite init`` proposes for the timestamp column, so a batch from the future fails.
    """
    latest = datetime.now(UTC) + timedelta(seconds=FUTURE_SLACK_SECONDS)
    return {LATEST_TIMESTAMP_PARAMETER: latest}


def _role(column: str, config: ModelConfig) -> str:
    data = config.data
    if column == data.target_column:
        return "target"
    if column == data.timestamp_column:
        return "timestamp"
    if column in data.exclude or (data.features is not None and column not in data.features):
        return "unused"
    return "feature"


def _propose_column(series: pd.Series, role: str, config: ModelConfig, knobs: dict[str, Any]) -> list[dict[str, Any]]:
    """Type and nulls for every column; value checks only where the model reads the values.

    The timestamp column is parsed to UTC by ``load_batch`` whatever the reference held,
    so it gets no type check, only nulls and a range: not before the reference's first day
    minus its span, not after the moment of validation (a batch dated in the future or
    decades back would break the time split). Unused columns often carry
    calendar parts or identifiers that move every batch by design: their checks only warn.
    """
    name = str(series.name)
    severity = "warn" if role == "unused" else "error"
    found = [_null_rule(series, role, knobs["null_slack"], severity)]
    if role == "timestamp":
        return [*found, *_timestamp_range(series)]
    types = type_list(series)
    if types:
        kwargs = {"column": name, "type_list": types}
        found.append(
            expectation(
                "expect_column_values_to_be_in_type_list", kwargs, f"{role} column of dtype {series.dtype}", severity
            )
        )
    if role == "unused":
        return found
    values = series.dropna()
    if role == "target":
        return found + _target_values(values, config)
    declared = name in (config.data.categorical or [])
    if (declared or is_categorical(series)) and values.nunique() <= knobs["max_categories"]:
        found += category_rules(values, role, knobs["new_category_share"])
    elif is_number(series) and not declared:
        found += statistical_range(values, role, knobs["range_pad"], knobs["range_mostly"])
        found += gross_range(values, role)
    return found


def _target_values(values: pd.Series, config: ModelConfig) -> list[dict[str, Any]]:
    """Never a range on the target: its growth is what a retrain must learn.

    A binary target has exactly its two labels (anything else is broken data); a new
    multiclass label is label shift, reported but let through so the next model learns it.
    """
    if config.task == "regression":
        return []
    severity = "error" if config.task == "binary" else "warn"
    found = value_set(values, "target", 0.0, severity)
    return [found] if found is not None else []


def _null_rule(series: pd.Series, role: str, null_slack: float, severity: str) -> dict[str, Any]:
    """Nulls may double and grow by ``null_slack`` more: sparse columns vary a lot between batches.

    A feature that had no nulls in the reference may have ``null_slack`` of them: one missing
    reading in a month is not a broken feed. The target and the timestamp stay complete.
    """
    share = float(series.notna().mean())
    if share == 1.0 and role in ("target", "timestamp"):
        mostly, note = 1.0, f"{role} column had no nulls in {len(series)} reference rows"
    else:
        allowed = min(1.0, 2 * (1.0 - share) + null_slack)
        mostly = max(0.0, math.floor((1.0 - allowed) * 10_000) / 10_000)
        note = (
            f"{role} column was {1.0 - share:.2%} null in the reference; allows twice that"
            f" plus {null_slack:.0%} of rows"
        )
    kwargs = {"column": str(series.name), "mostly": mostly}
    return expectation("expect_column_values_to_not_be_null", kwargs, note, severity)


def _timestamp_range(series: pd.Series) -> list[dict[str, Any]]:
    """Earliest: first day minus the observed span (a year at least). Latest: validation time."""
    stamps = pd.to_datetime(series, utc=True, errors="coerce", format="mixed").dropna()
    if stamps.empty:
        return []
    first, last = stamps.min(), stamps.max()
    slack = max(last - first, pd.Timedelta(days=MIN_PAST_SLACK_DAYS))
    earliest = (first - slack).floor("D")
    note = (
        f"timestamp column observed from {first.isoformat()} to {last.isoformat()}; allows "
        f"{slack.days} days before that and nothing after the time of validation plus one day "
        f"(the suite parameter {LATEST_TIMESTAMP_PARAMETER}, which Retrain sets at each validation)"
    )
    kwargs = {
        "column": str(series.name),
        "min_value": earliest.isoformat(),
        "max_value": {"$PARAMETER": LATEST_TIMESTAMP_PARAMETER},
    }
    return [expectation("expect_column_values_to_be_between", kwargs, note)]
