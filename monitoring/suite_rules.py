"""The column rules a proposed suite is made of, each tagged broken (``error``) or shifted (``warn``).

Two questions hide in "is this batch valid?". *Is it broken?* (a column missing or retyped, a
wave of nulls, a value no honest process produces, a unit or encoding slip): the run must
stop, so these rules are ``error``. *Has the world moved?* (values beyond what the reference
saw, categories it never had): that is what the drift check and the gate exist for, so these
rules are ``warn``: the batch goes through, the warning carries the share of rows concerned,
and the drift check judges the move. TFX's data validation draws the same line: it infers
types, presence and category domains, not numeric ranges, and treats distribution change
as drift.

What counts as broken, by rule:

- **Declared limits** (``validation.bounds`` in the config): a value outside them is
  impossible (a negative count, a share above 100 %), so one such row fails the batch.
- **Gross outliers**: a value more than ``GROSS_SPREADS`` times the reference's
  1st-99th percentile spread beyond those percentiles (for a non-negative quantity, also
  above ``GROSS_GROWTH`` times its 99th percentile: prices and counts grow by factors). A
  season, a new regime or years of growth stay inside; a unit slip (x100, x1000) or a
  sentinel such as -99999 does not. Up to ``GROSS_MOSTLY`` of rows may hold one (a
  glitching sensor is not a broken feed).
- **Garbled categories**: fewer than ``KNOWN_CATEGORY_SHARE`` of the rows hold a value the
  reference had. A new season or product is a minority of rows; an encoding slip or a
  shifted column turns most of them into strangers.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

QUANTILES = (0.01, 0.99)  # robust ends of the reference: a few glitches do not become the valid range
GROWTH = 3.0  # a non-negative quantity may grow to this multiple of its 99th percentile (demand, prices)
GROSS_SPREADS = 10.0  # beyond the 1st-99th percentiles by this many times their spread: a unit or encoding slip
GROSS_MOSTLY = 0.99  # share of rows that must be free of gross outliers
GROSS_GROWTH = 10.0  # a non-negative quantity may grow to this multiple of its 99th percentile (prices over years)
KNOWN_CATEGORY_SHARE = 0.5  # below this share of known values a category column is garbled

_INTS = ["int", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
_INTS += ["Int8Dtype", "Int16Dtype", "Int32Dtype", "Int64Dtype"]
_INTS += ["UInt8Dtype", "UInt16Dtype", "UInt32Dtype", "UInt64Dtype"]
_FLOATS = ["float", "float16", "float32", "float64", "Float32Dtype", "Float64Dtype", *_INTS]
_STRINGS = ["str", "StringDtype"]
_BOOLS = ["bool", "BooleanDtype"]
_DATETIMES = ["datetime64[ns]", "datetime64[us]", "datetime64[ms]", "datetime64[s]"]
# GX checks object columns value by value against Python type names.
_VALUE_TYPES = {str: _STRINGS, bool: _BOOLS, int: ["int"], float: ["float"]}


def expectation(kind: str, kwargs: dict[str, Any], note: str, severity: str = "error") -> dict[str, Any]:
    return {"type": kind, "kwargs": kwargs, "meta": {"note": note, "severity": severity}}


def finite_numbers(values: pd.Series) -> np.ndarray:
    numbers = values.to_numpy(dtype=float, na_value=np.nan)
    return numbers[np.isfinite(numbers)]


def statistical_range(values: pd.Series, role: str, pad: float, mostly: float) -> list[dict[str, Any]]:
    """Where the reference's values lay, widened: leaving it is a shift, reported (``warn``).

    The 1st-99th percentiles widened by ``pad`` times their spread; kept non-negative when no
    negative value was seen, and a non-negative quantity may grow to ``GROWTH`` times its 99th
    percentile. The warning's share of rows outside is what a person reads.
    """
    numbers = finite_numbers(values)
    if numbers.size == 0:
        return []
    low, high = (float(q) for q in np.quantile(numbers, QUANTILES))
    integer = pd.api.types.is_integer_dtype(values.dtype)
    lower, upper = widen(low, high, pad, integer, nonnegative=bool(numbers.min() >= 0))
    note = (
        f"{role} column: 1st-99th percentiles [{low:.6g}, {high:.6g}] widened by {pad:g}x their spread "
        f"on each side; a shift, not an error: reported when more than {1 - mostly:.0%} of rows fall outside"
    )
    if numbers.min() >= 0:
        note += f"; kept non-negative because no negative value was seen, and may grow to {GROWTH:g}x the 99th"
    kwargs = {"column": str(values.name), "min_value": lower, "max_value": upper, "mostly": mostly}
    return [expectation("expect_column_values_to_be_between", kwargs, note, "warn")]


def gross_range(values: pd.Series, role: str) -> list[dict[str, Any]]:
    """Values no shift explains: ``GROSS_SPREADS`` spreads beyond the 1st-99th percentiles (``error``)."""
    numbers = finite_numbers(values)
    if numbers.size == 0:
        return []
    low, high = (float(q) for q in np.quantile(numbers, QUANTILES))
    integer = pd.api.types.is_integer_dtype(values.dtype)
    lower, upper = widen(low, high, GROSS_SPREADS, integer)
    note = (
        f"{role} column: beyond the 1st-99th percentiles [{low:.6g}, {high:.6g}] by more than "
        f"{GROSS_SPREADS:g}x their spread looks like a unit or encoding error, not a shift; "
        f"at most {1 - GROSS_MOSTLY:.0%} of rows may"
    )
    if numbers.min() >= 0 and high > 0 and GROSS_GROWTH * high > upper:  # growth by a factor is no slip
        upper = math.ceil(GROSS_GROWTH * high) if integer else float(f"{GROSS_GROWTH * high:.6g}")
        note += f"; a non-negative quantity may also grow to {GROSS_GROWTH:g}x its 99th percentile"
    kwargs = {"column": str(values.name), "min_value": lower, "max_value": upper, "mostly": GROSS_MOSTLY}
    return [expectation("expect_column_values_to_be_between", kwargs, note, "error")]


def declared_bounds(column: str, bounds: tuple[float | None, float | None]) -> dict[str, Any]:
    """A limit the config declares (``validation.bounds``): outside it a value is impossible."""
    low, high = bounds
    kwargs: dict[str, Any] = {"column": column}
    if low is not None:
        kwargs["min_value"] = low
    if high is not None:
        kwargs["max_value"] = high
    shown = f"[{'-inf' if low is None else f'{low:g}'}, {'inf' if high is None else f'{high:g}'}]"
    note = f"declared in the config (validation.bounds.{column}): every value within {shown}"
    return expectation("expect_column_values_to_be_between", kwargs, note, "error")


def widen(
    low: float, high: float, pad: float, integer: bool, nonnegative: bool = False
) -> tuple[float | int, float | int]:
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


def category_rules(values: pd.Series, role: str, new_share: float) -> list[dict[str, Any]]:
    """New categories are a shift (``warn``); mostly unknown values are a garbled column (``error``)."""
    shifted = value_set(values, role, new_share, "warn")
    if shifted is None:
        return []
    shifted["meta"]["note"] += "; a new value is a shift, reported with the share of rows holding it"
    garbled = value_set(values, role, 1.0 - KNOWN_CATEGORY_SHARE, "error")
    assert garbled is not None
    garbled["meta"]["note"] = (
        f"{role} column: fewer than {KNOWN_CATEGORY_SHARE:.0%} of rows holding one of the "
        f"{len(garbled['kwargs']['value_set'])} reference values means garbled data (encoding, shifted columns)"
    )
    return [shifted, garbled]


def value_set(values: pd.Series, role: str, new_share: float, severity: str = "error") -> dict[str, Any] | None:
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
    return expectation("expect_column_values_to_be_in_set", kwargs, note, severity)


def type_list(series: pd.Series) -> list[str] | None:
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
