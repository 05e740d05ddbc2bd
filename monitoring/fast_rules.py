"""The suite's expectation types evaluated in pandas, as Great Expectations evaluates them.

GX costs about a second per call whatever the row count (it builds a metric graph for each
run), which a request of one row cannot afford. Each function here mirrors one expectation
type of GX 1.x's pandas engine: the same null filtering, the same comparisons (vectorised
for int/float/datetime columns, value by value otherwise), the same ``mostly`` arithmetic
and the same ``result`` fields (``element_count``, ``unexpected_count``, ``missing_count``,
``unexpected_percent``, ``partial_unexpected_list``, ``observed_value``, ``details``), so
``gx_results.to_failure`` and ``validation.judge_share`` read a ``RuleResult`` exactly as they
read a GX result. Anything outside what is mirrored exactly (an expectation type or argument
not listed in ``KNOWN``, a comparison that raises, a dtype GX treats its own way) raises
``Unsure`` and the caller lets GX judge: a rule is never skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from monitoring.fast_types import (
    Unsure,
    between_condition,
    check_bounds,
    dtype_in_list,
    value_types,
    vectorised_between,
)

PARTIAL = 5  # partial_unexpected_count of validation's result format
SMALL = 1000  # up to this many values a Python set is faster than pandas' isin (which builds a table per call)
_SETS: dict[int, tuple[Any, frozenset[Any]]] = {}  # id(value_set) -> (the list, its set)
ROW_COUNT = "expect_table_row_count_to_be_between"
COLUMN_SET = "expect_table_columns_to_match_set"
EXISTS = "expect_column_to_exist"
NOT_NULL = "expect_column_values_to_not_be_null"
TYPE_LIST = "expect_column_values_to_be_in_type_list"
BETWEEN = "expect_column_values_to_be_between"
IN_SET = "expect_column_values_to_be_in_set"
# The expectation types mirrored and the arguments each may carry; anything else goes to GX.
KNOWN: dict[str, set[str]] = {
    ROW_COUNT: {"min_value", "max_value"},
    COLUMN_SET: {"column_set", "exact_match"},
    EXISTS: {"column"},
    NOT_NULL: {"column", "mostly"},
    TYPE_LIST: {"column", "type_list", "mostly"},
    BETWEEN: {"column", "min_value", "max_value", "mostly"},
    IN_SET: {"column", "value_set", "mostly"},
}


class Column:
    """One column of the batch with its null mask and non-null values, computed once for all its rules."""

    def __init__(self, values: pd.Series) -> None:
        self.values = values
        self.numbers: np.ndarray | None = None  # non-null values of an int64/float64 column, as GX compares them
        dtype = values.dtype
        if isinstance(dtype, np.dtype) and dtype in [int, float]:
            raw = values.to_numpy()
            self.nulls = np.isnan(raw) if dtype.kind == "f" else np.zeros(len(raw), dtype=bool)
            self.numbers = raw[~self.nulls] if self.nulls.any() else raw
        else:
            self.nulls = np.asarray(values.array.isna(), dtype=bool)
        self._present: pd.Series | None = None
        self._objects: np.ndarray | None = None

    @property
    def present(self) -> pd.Series:
        """The non-null values as a Series (taken when a rule needs them: a Series costs more than the check)."""
        if self._present is None:
            self._present = self.values[~self.nulls] if self.nulls.any() else self.values
        return self._present

    @property
    def objects(self) -> np.ndarray:
        """The non-null values of an object column as its own array (what the value-by-value rules read)."""
        if self._objects is None:
            raw = self.values.to_numpy()
            self._objects = raw[~self.nulls] if self.nulls.any() else raw
        return self._objects

    def first(self, mask: np.ndarray) -> list[Any]:
        """Up to ``PARTIAL`` values where ``mask`` holds over all rows, as GX lists them."""
        if self.numbers is not None or self.values.dtype == object:  # the array's values are the Series' values
            return _plain(self.values.to_numpy()[mask][:PARTIAL])
        return _plain(self.values[mask][:PARTIAL])


@dataclass(frozen=True)
class RuleConfig:
    """An expectation as GX normalised it (kwargs typed and ordered by GX, parameters filled in)."""

    type: str
    kwargs: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleResult:
    """One expectation's outcome, shaped like GX's ``ExpectationValidationResult``."""

    success: bool
    expectation_config: RuleConfig
    result: dict[str, Any]
    exception_info: dict[str, Any] | None = None


def unknown_rules(configs: list[RuleConfig]) -> list[str]:
    """``type(argument, ...)`` of each expectation the fast path does not mirror."""
    found = []
    for config in configs:
        allowed = KNOWN.get(config.type)
        extra = sorted(set(config.kwargs) - {"batch_id"} - (allowed or set()))
        if allowed is None or extra:
            found.append(f"{config.type}({', '.join(extra)})" if allowed is not None else config.type)
    return found


def evaluate(df: pd.DataFrame, config: RuleConfig, columns: dict[Any, Column] | None = None) -> RuleResult:
    """One expectation on ``df``; raises ``Unsure`` where GX's answer would not be reproduced exactly.

    ``columns`` keeps the columns already taken out of ``df`` (a suite has several rules per column).
    """
    kwargs = config.kwargs
    column = kwargs.get("column")
    if config.type in (ROW_COUNT, COLUMN_SET):
        success, result = _TABLE[config.type](df, kwargs)
        return RuleResult(success, config, result)
    columns = {} if columns is None else columns
    taken = columns.get(column)
    if taken is None:
        if column not in df.columns:
            return RuleResult(False, config, {})  # to_failure names the missing column
        if config.type == EXISTS:
            return RuleResult(True, config, {})
        taken = columns[column] = Column(df[column])
    elif config.type == EXISTS:
        return RuleResult(True, config, {})
    try:
        success, result = _COLUMN[config.type](taken, kwargs)
    except Unsure:
        raise
    except Exception as exc:  # GX reports this as an exception record; its exact message is GX's to give
        raise Unsure(f"{config.type}({column}): {type(exc).__name__}") from None
    return RuleResult(success, config, result)


def _row_count(df: pd.DataFrame, kwargs: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    rows, low, high = len(df), kwargs.get("min_value"), kwargs.get("max_value")
    success = (low is None or rows >= low) and (high is None or rows <= high)
    return bool(success), {"observed_value": rows}


def _column_set(df: pd.DataFrame, kwargs: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    expected, actual = set(kwargs.get("column_set") or []), set(df.columns)
    result: dict[str, Any] = {"observed_value": sorted(str(c) for c in actual)}
    extra, missing = sorted(str(c) for c in actual - expected), sorted(str(c) for c in expected - actual)
    if not extra and not missing:
        return True, result
    mismatched = {**({"unexpected": extra} if extra else {}), **({"missing": missing} if missing else {})}
    result["details"] = {"mismatched": mismatched}
    exact = kwargs.get("exact_match", True)
    return (not missing and not exact), result


def _not_null(column: Column, kwargs: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    """Nulls over all rows (GX does not filter them out for this rule)."""
    values, nulls = column.values, column.nulls
    total, count = len(values), int(nulls.sum())
    success = total == 0 or (total - count) / total >= _mostly(kwargs)
    result = {
        "element_count": total,
        "unexpected_count": count,
        "unexpected_percent": count / total * 100 if total else None,
        "partial_unexpected_list": column.first(nulls) if count else [],
    }
    return success, result


def _map_rule(
    column: Column, kwargs: dict[str, Any], condition: Callable[[Any], Any], present: Any = None
) -> tuple[bool, dict]:
    """A per-value rule over the non-null values (``present``: an array of them, else the Series),
    with GX's counts and ``mostly`` arithmetic."""
    total = len(column.values)
    present = column.present if present is None else present
    nonnull = len(present)
    unexpected = ~_booleans(condition(present)) if nonnull else np.zeros(0, dtype=bool)
    count = int(unexpected.sum())
    success = total == 0 or nonnull == 0 or (nonnull - count) / nonnull >= _mostly(kwargs)
    result = {
        "element_count": total,
        "unexpected_count": count,
        "unexpected_percent": (count / nonnull * 100 if nonnull else None) if total else None,
        "partial_unexpected_list": _plain(present[unexpected][:PARTIAL]) if count else [],
        "missing_count": total - nonnull,
    }
    return bool(success), result


def _between(column: Column, kwargs: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if column.numbers is not None:  # what between_condition does for these dtypes, without the Series
        check_bounds(low, high)
        return _map_rule(column, kwargs, lambda v: vectorised_between(v, low, high), column.numbers)
    return _map_rule(column, kwargs, lambda v: between_condition(v, low, high))


def _in_set(column: Column, kwargs: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    value_set = kwargs.get("value_set")
    if value_set is None:
        raise Unsure("in_set without a value_set")
    if column.values.dtype == object and len(column.objects) <= SMALL:
        members = _members(value_set)
        if members is not None:  # Python's equality, as pandas' object hash table; nulls are already out
            check = lambda v: np.fromiter((x in members for x in v), bool, len(v))  # noqa: E731
            return _map_rule(column, kwargs, check, column.objects)
    return _map_rule(column, kwargs, lambda v: v.isin(value_set))


def _members(value_set: Any) -> frozenset[Any] | None:
    """The set of a rule's values, built once per suite reading (keyed by the list itself); None if unhashable."""
    cached = _SETS.get(id(value_set))
    if cached is not None and cached[0] is value_set:
        return cached[1]
    try:
        members = frozenset(value_set)
    except TypeError:
        return None
    if len(_SETS) > 1024:
        _SETS.clear()
    _SETS[id(value_set)] = (value_set, members)
    return members


def _type_list(column: Column, kwargs: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    """Object columns value by value; any other dtype judged on the dtype itself, as GX does."""
    types = kwargs.get("type_list")
    if types is None:
        raise Unsure("type_list not set")
    dtype = column.values.dtype
    if dtype.type.__name__ == "object_":
        allowed = value_types(types)
        check = lambda v: np.fromiter((isinstance(x, allowed) for x in v), bool, len(v))  # noqa: E731
        return _map_rule(column, kwargs, check, column.objects)
    return dtype_in_list(dtype, types), {"observed_value": dtype.type.__name__}


def _booleans(passed: Any) -> np.ndarray:
    """The condition as plain booleans; anything else (a null, a non-boolean) is not mirrored."""
    array = np.asarray(passed)
    if array.dtype == bool:
        return array
    if not all(isinstance(x, (bool, np.bool_)) for x in array):
        raise Unsure("a condition that is not plain booleans")
    return array.astype(bool)


def _mostly(kwargs: dict[str, Any]) -> float:
    mostly = kwargs.get("mostly")
    return 1.0 if mostly is None else float(mostly)


def _plain(values: pd.Series | np.ndarray) -> list[Any]:
    """Values as GX's result serialisation leaves them: Python scalars for numpy ones."""
    return [v.item() if isinstance(v, np.generic) else v for v in values.tolist()]


_TABLE = {ROW_COUNT: _row_count, COLUMN_SET: _column_set}
_COLUMN = {NOT_NULL: _not_null, TYPE_LIST: _type_list, BETWEEN: _between, IN_SET: _in_set}
