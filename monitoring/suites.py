"""Propose an expectation suite from reference data, for a person to review and edit.

The proposal must catch broken data (a renamed column, a type change, a wave of nulls,
impossible values) and let honest change through, because a retrain needs exactly the
batches that differ from the past: more demand, a new season, a new route. So ranges come
from robust quantiles widened by the spread between them and hold for ``mostly`` of the
rows, the target gets no range, category sets admit a small share of new values, and
columns the model never reads only warn. Every expectation carries ``meta.note`` (what it
was derived from) and ``meta.severity``: ``error`` quarantines the batch, ``warn`` is
reported and lets it through. The output is the JSON layout Great Expectations 1.x writes
for an ExpectationSuite, so GX tools can read it too.
"""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from training.data import is_categorical, is_number

if TYPE_CHECKING:
    from base.settings import ModelConfig

QUANTILES = (0.01, 0.99)  # robust ends of the reference: a few glitches do not become the valid range
RANGE_PAD = 1.0  # quantile spans added on each side: seasons and growth move values well past the reference
GROWTH = 3.0  # a non-negative quantity may grow to this multiple of its 99th percentile (demand, prices)
RANGE_MOSTLY = 0.98  # share of rows that must fall within a plausibility range
NULL_SLACK = 0.05  # share of rows by which nulls may exceed twice the reference null share
NEW_CATEGORY_SHARE = 0.02  # share of rows that may carry a category the reference never had
MAX_CATEGORIES = 50  # above this many distinct values a column is not treated as categorical
SEVERITIES = ("error", "warn")
# Timestamps: none later than now plus a day of clock skew (a suite parameter set at each
# validation), none earlier than the reference's first day minus its span (at least a year).
LATEST_TIMESTAMP_PARAMETER = "latest_plausible_timestamp"
FUTURE_SLACK_SECONDS = 86_400
MIN_PAST_SLACK_DAYS = 365

_INTS = ["int", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
_INTS += ["Int8Dtype", "Int16Dtype", "Int32Dtype", "Int64Dtype"]
_INTS += ["UInt8Dtype", "UInt16Dtype", "UInt32Dtype", "UInt64Dtype"]
_FLOATS = ["float", "float16", "float32", "float64", "Float32Dtype", "Float64Dtype", *_INTS]
_STRINGS = ["str", "StringDtype"]
_BOOLS = ["bool", "BooleanDtype"]
_DATETIMES = ["datetime64[ns]", "datetime64[us]", "datetime64[ms]", "datetime64[s]"]
# GX checks object columns value by value against Python type names.
_VALUE_TYPES = {str: _STRINGS, bool: _BOOLS, int: ["int"], float: ["float"]}


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
    expectations = [_expectation("expect_table_row_count_to_be_between", {"min_value": 1}, "a batch must have rows")]
    expectations += _schema(df, config)
    for column in df.columns:
        role = _role(str(column), config)
        expectations += _propose_column(df[column], role, config, knobs)
    meta = {"model": config.name, "task": config.task, "reference_rows": len(df), **knobs}
    return {"name": config.name, "expectations": expectations, "meta": meta}


def _schema(df: pd.DataFrame, config: ModelConfig) -> list[dict[str, Any]]:
    """Columns the model reads must exist (error); any other change of the column set only warns."""
    names = [str(c) for c in df.columns]
    found = [
        _expectation(
            "expect_table_columns_to_match_set",
            {"column_set": names, "exact_match": True},
            f"the {len(names)} reference columns; an added or dropped column the model does not read is reported only",
            "warn",
        )
    ]
    for name in names:
        role = _role(name, config)
        if role != "unused":
            found.append(_expectation("expect_column_to_exist", {"column": name}, f"the {role} column", "error"))
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
    found = [_null_expectation(series, role, knobs["null_slack"], severity)]
    if role == "timestamp":
        return [*found, *_timestamp_range(series)]
    types = _type_list(series)
    if types:
        kwargs = {"column": name, "type_list": types}
        found.append(
            _expectation(
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
        listed = _value_set(values, role, knobs["new_category_share"])
        found += [listed] if listed is not None else []
    elif is_number(series) and not declared:
        found += _range(values, role, knobs["range_pad"], knobs["range_mostly"])
    return found


def _target_values(values: pd.Series, config: ModelConfig) -> list[dict[str, Any]]:
    """Never a range on the target: its growth is what a retrain must learn.

    A binary target has exactly its two labels (anything else is broken data); a new
    multiclass label is label shift, reported but let through so the next model learns it.
    """
    if config.task == "regression":
        return []
    severity = "error" if config.task == "binary" else "warn"
    found = _value_set(values, "target", 0.0, severity)
    return [found] if found is not None else []


def _null_expectation(series: pd.Series, role: str, null_slack: float, severity: str) -> dict[str, Any]:
    """Nulls may double and grow by ``null_slack`` more: sparse columns vary a lot between batches."""
    share = float(series.notna().mean())
    if share == 1.0:
        mostly, note = 1.0, f"{role} column had no nulls in {len(series)} reference rows"
    else:
        allowed = min(1.0, 2 * (1.0 - share) + null_slack)
        mostly = max(0.0, math.floor((1.0 - allowed) * 10_000) / 10_000)
        note = (
            f"{role} column was {1.0 - share:.2%} null in the reference; allows twice that"
            f" plus {null_slack:.0%} of rows"
        )
    kwargs = {"column": str(series.name), "mostly": mostly}
    return _expectation("expect_column_values_to_not_be_null", kwargs, note, severity)


def _range(values: pd.Series, role: str, pad: float, mostly: float) -> list[dict[str, Any]]:
    """A plausibility range: the 1st-99th percentiles widened by ``pad`` times their spread.

    Quantiles rather than min/max, so a sensor glitch in the reference does not become the
    valid range; kept non-negative when no negative value was seen, which is what catches a
    sign error. A non-negative quantity may also grow to ``GROWTH`` times its 99th
    percentile, because counts, prices and demand grow by a factor, not by a spread.
    ``mostly`` lets a few honest outliers through.
    """
    numbers = values.to_numpy(dtype=float, na_value=np.nan)
    numbers = numbers[np.isfinite(numbers)]
    if numbers.size == 0:
        return []
    low, high = (float(q) for q in np.quantile(numbers, QUANTILES))
    integer = pd.api.types.is_integer_dtype(values.dtype)
    lower, upper = _widen(low, high, pad, integer, nonnegative=bool(numbers.min() >= 0))
    note = (
        f"{role} column: 1st-99th percentiles [{low:.6g}, {high:.6g}] widened by {pad:g}x their spread "
        f"on each side; at least {mostly:.0%} of rows must fall within"
    )
    if numbers.min() >= 0:
        note += f"; kept non-negative because no negative value was seen, and may grow to {GROWTH:g}x the 99th"
    kwargs = {"column": str(values.name), "min_value": lower, "max_value": upper, "mostly": mostly}
    return [_expectation("expect_column_values_to_be_between", kwargs, note)]


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
    return [_expectation("expect_column_values_to_be_between", kwargs, note)]


def _widen(low: float, high: float, pad: float, integer: bool, nonnegative: bool) -> tuple[float, float]:
    """Pad both sides, then round outward to a readable precision."""
    span = high - low
    width = pad * (span if span > 0 else max(abs(low), 1.0))
    lower = max(low - width, 0.0) if nonnegative else low - width
    upper = max(high + width, GROWTH * high) if nonnegative else high + width
    if integer:
        return math.floor(lower), math.ceil(upper)
    digits = max(0, 1 - math.floor(math.log10(width))) if width > 0 else 6
    factor = 10**digits
    return round(math.floor(lower * factor) / factor, digits), round(math.ceil(upper * factor) / factor, digits)


def _value_set(values: pd.Series, role: str, new_share: float, severity: str = "error") -> dict[str, Any] | None:
    """The observed categories; ``new_share`` of rows may hold values never seen (0 = closed set)."""
    distinct = values.drop_duplicates().tolist()
    if not all(isinstance(v, (str, int, float, bool)) for v in distinct):
        return None
    distinct.sort(key=lambda v: (type(v).__name__, v))
    note = f"{role} column: the {len(distinct)} values in the reference"
    kwargs = {"column": str(values.name), "value_set": distinct}
    if new_share > 0:
        kwargs["mostly"] = round(1.0 - new_share, 6)
        note += f"; up to {new_share:.0%} of rows may hold a new one"
    return _expectation("expect_column_values_to_be_in_set", kwargs, note, severity)


def _type_list(series: pd.Series) -> list[str] | None:
    """Names GX accepts for this dtype; None where GX cannot express it (category, tz-aware)."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return list(_BOOLS)
    if pd.api.types.is_integer_dtype(dtype):
        return list(_INTS)
    if pd.api.types.is_float_dtype(dtype):
        return list(_FLOATS)
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        return list(_STRINGS)
    if isinstance(dtype, (pd.DatetimeTZDtype, pd.CategoricalDtype)):
        return None
    if pd.api.types.is_datetime64_dtype(dtype):
        return list(_DATETIMES)
    if pd.api.types.is_object_dtype(dtype):
        return _object_type_list(series)
    return None


def _object_type_list(series: pd.Series) -> list[str] | None:
    seen = {type(v) for v in series.dropna()}
    if not seen or not seen <= set(_VALUE_TYPES):
        return None
    names = [name for kind in sorted(seen, key=lambda k: k.__name__) for name in _VALUE_TYPES[kind]]
    return sorted(set(names))


def _expectation(kind: str, kwargs: dict[str, Any], note: str, severity: str = "error") -> dict[str, Any]:
    return {"type": kind, "kwargs": kwargs, "meta": {"note": note, "severity": severity}}
