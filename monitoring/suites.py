"""Propose an expectation suite from reference data, for a person to review and edit.

The proposal is a starting point, not a verdict: bounds are widened by a slack so the
next ordinary batch passes, and every expectation carries a ``meta.note`` saying what it
was derived from, so whoever edits the JSON knows which numbers are observed facts.
The output is the JSON layout Great Expectations 1.x writes for an ExpectationSuite
(``name`` + ``expectations`` of ``type``/``kwargs``/``meta``), so GX tools can read it too.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datetime import datetime, timedelta, timezone

import pandas as pd

from training.data import is_categorical, is_number

if TYPE_CHECKING:
    from base.settings import ModelConfig

RANGE_SLACK = 0.10  # share of the observed range added on each side of numeric bounds
NULL_SLACK = 0.05  # share of rows by which nulls may exceed twice the reference null share
MAX_CATEGORIES = 50  # above this many distinct values a column is not treated as categorical
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
    range_slack: float = RANGE_SLACK,
    null_slack: float = NULL_SLACK,
    max_categories: int = MAX_CATEGORIES,
) -> dict[str, Any]:
    """Derive a GX suite dict from reference rows: schema, types, nulls, ranges, categories."""
    if df.empty:
        raise ValueError("cannot propose a suite from an empty frame: no rows to learn from")
    expectations = [
        _expectation("expect_table_row_count_to_be_between", {"min_value": 1}, "a batch must have rows"),
        _expectation(
            "expect_table_columns_to_match_set",
            {"column_set": [str(c) for c in df.columns], "exact_match": True},
            f"the {len(df.columns)} reference columns; set exact_match to false to allow extra columns",
        ),
    ]
    for column in df.columns:
        role = _role(str(column), config)
        expectations += _propose_column(df[column], role, config, range_slack, null_slack, max_categories)
    meta = {"model": config.name, "task": config.task, "reference_rows": len(df)}
    meta |= {"range_slack": range_slack, "null_slack": null_slack, "max_categories": max_categories}
    return {"name": config.name, "expectations": expectations, "meta": meta}


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
    latest = datetime.now(timezone.utc) + timedelta(seconds=FUTURE_SLACK_SECONDS)
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


def _propose_column(
    series: pd.Series, role: str, config: ModelConfig, range_slack: float, null_slack: float, max_categories: int
) -> list[dict[str, Any]]:
    """Type and nulls for every column; value checks only where the model reads the values.

    The timestamp column gets no type check (``load_batch`` parses it to UTC and rejects a
    batch it cannot parse, while a reference frame may hold it as raw text) but a range:
    not before the reference's first day minus its span, not after the moment of
    validation, so a batch dated in the future or decades back fails before it can break
    the time split.

    Unused columns (excluded, or outside an explicit feature list) often carry calendar
    parts or identifiers whose ranges move every batch by design: checking their values
    would quarantine good batches for columns the model never sees.
    """
    name = str(series.name)
    found = [_null_expectation(series, role, null_slack)]
    if role == "timestamp":  # the batch loader parses it to UTC, whatever the reference held
        return [*found, *_timestamp_range(series)]
    types = _type_list(series)
    if types:
        kwargs = {"column": name, "type_list": types}
        note = f"{role} column of dtype {series.dtype}"
        found.append(_expectation("expect_column_values_to_be_in_type_list", kwargs, note))
    if role == "unused":
        return found
    values = series.dropna()
    declared = name in (config.data.categorical or [])
    if role == "target" and config.task != "regression":
        found.append(_value_set(values, role, "observed class labels"))
    elif (declared or is_categorical(series)) and values.nunique() <= max_categories:
        found.append(_value_set(values, role, "observed categories"))
    elif is_number(series) and not declared:
        found += _range(values, role, range_slack)
    return [item for item in found if item is not None]


def _null_expectation(series: pd.Series, role: str, null_slack: float) -> dict[str, Any]:
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
    return _expectation("expect_column_values_to_not_be_null", kwargs, note)


def _range(values: pd.Series, role: str, slack: float) -> list[dict[str, Any]]:
    if values.empty:
        return []
    low, high = float(values.min()), float(values.max())
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    integer = pd.api.types.is_integer_dtype(values.dtype)
    lower, upper = _widen(low, high, slack, integer)
    observed = f"[{_plain(low, integer)}, {_plain(high, integer)}]"
    note = f"{role} column observed in {observed}, widened by {slack:.0%} of the range"
    if low >= 0:
        note += "; kept non-negative because no negative value was seen"
    kwargs = {"column": str(values.name), "min_value": lower, "max_value": upper}
    return [_expectation("expect_column_values_to_be_between", kwargs, note)]


def _timestamp_range(series: pd.Series) -> list[dict[str, Any]]:
    """Earliest: first day minus the observed span (a year at least). Latest: validation time."""
    stamps = pd.to_datetime(series, utc=True, errors="coerce", format="mixed").dropna()
    if stamps.empty:
        return []
    first, last = stamps.min(), stamps.max()
    slack = max(last - first, pd.Timedelta(days=MIN_PAST_SLACK_DAYS))
    earliest = (first - slack).floor("D")
    note = (f"timestamp column observed from {first.isoformat()} to {last.isoformat()}; allows "
            f"{slack.days} days before that and nothing after the time of validation plus one day "
            f"(the suite parameter {LATEST_TIMESTAMP_PARAMETER}, which Retrain sets at each validation)")
    kwargs = {"column": str(series.name), "min_value": earliest.isoformat(),
              "max_value": {"$PARAMETER": LATEST_TIMESTAMP_PARAMETER}}
    return [_expectation("expect_column_values_to_be_between", kwargs, note)]


def _widen(low: float, high: float, slack: float, integer: bool) -> tuple[float, float]:
    """Pad both sides, then round outward to a readable precision."""
    span = high - low
    pad = slack * (span if span > 0 else max(abs(low), 1.0))
    lower = max(low - pad, 0.0) if low >= 0 else low - pad
    upper = high + pad
    if integer:
        return math.floor(lower), math.ceil(upper)
    digits = max(0, 1 - math.floor(math.log10(pad))) if pad > 0 else 6
    factor = 10**digits
    return round(math.floor(lower * factor) / factor, digits), round(math.ceil(upper * factor) / factor, digits)


def _value_set(values: pd.Series, role: str, what: str) -> dict[str, Any] | None:
    distinct = values.drop_duplicates().tolist()
    if not all(isinstance(v, (str, int, float, bool)) for v in distinct):
        return None
    distinct.sort(key=lambda v: (type(v).__name__, v))
    note = f"{role} column: the {len(distinct)} {what} in the reference"
    kwargs = {"column": str(values.name), "value_set": distinct}
    return _expectation("expect_column_values_to_be_in_set", kwargs, note)


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
    if isinstance(dtype, pd.DatetimeTZDtype) or isinstance(dtype, pd.CategoricalDtype):
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


def _plain(value: float, integer: bool) -> int | float:
    return int(value) if integer else value


def _expectation(kind: str, kwargs: dict[str, Any], note: str) -> dict[str, Any]:
    return {"type": kind, "kwargs": kwargs, "meta": {"note": note}}
