"""Range and type comparisons exactly as GX 1.x's pandas engine makes them, for ``fast_rules``.

Kept apart because these are the places where GX's behaviour is particular: a range is
compared vectorised only for ``int``/``float``/nanosecond-datetime columns and value by value
otherwise (where a string against a number raises); a type list is resolved to numpy, pandas
and Python types one way for a column's dtype and another way for the values of an object
column. Mirroring that logic line for line is what keeps the fast path's verdicts GX's.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd


class Unsure(Exception):
    """This batch (or suite) is outside what is mirrored exactly: GX must judge it."""


_NATIVE = {"none": (type(None),), "bool": (bool,), "int": (int,), "long": (int,), "float": (float,)}
_NATIVE |= {"bytes": (bytes,), "complex": (complex,), "str": (str,), "string_types": (str,)}
_NATIVE |= {"list": (list,), "dict": (dict,)}


def between_condition(column: pd.Series, low: Any, high: Any) -> Any:
    """Which non-null values lie within [low, high] (GX's ``column_values.between``)."""
    check_bounds(low, high)
    if column.dtype in [int, float]:
        return vectorised_between(column.to_numpy(), low, high)  # what pandas does for a numpy-backed column
    if isinstance(column.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_ns_dtype(column.dtype):
        low = _parse_time(low) if isinstance(low, str) else low
        high = _parse_time(high) if isinstance(high, str) else high
        return vectorised_between(column.array, low, high)  # the array's comparison is the Series', without its index
    return np.fromiter((_is_between(v, low, high) for v in column.to_numpy()), bool, len(column))


@lru_cache(maxsize=256)
def _parse_time(text: str) -> Any:
    """A bound as GX reads it (dateutil), once per bound text: suites repeat theirs on every request."""
    from dateutil.parser import parse

    return parse(text)


def check_bounds(low: Any, high: Any) -> None:
    """A range GX would judge in its own way (no bound, or inverted) is left to GX."""
    if low is None and high is None:
        raise Unsure("a range with neither bound")
    if low is not None and high is not None and low > high:
        raise Unsure("a range whose min_value is above its max_value")


def vectorised_between(column: Any, low: Any, high: Any) -> Any:
    if low is None:
        return column <= high
    if high is None:
        return low <= column
    return (low <= column) & (column <= high)


def _is_between(value: Any, low: Any, high: Any) -> bool:
    """One value of a column of any other dtype; a string against a non-string bound is refused."""
    for bound in (low, high):
        if bound is not None and isinstance(value, str) != isinstance(bound, str):
            raise Unsure("a string compared with a number")
    if low is not None and high is not None:
        return bool((value >= low) and (value <= high))
    return bool(value <= high) if low is None else bool(value >= low)


@lru_cache(maxsize=256)
def _dtype_types(types: tuple[str, ...]) -> tuple[Any, ...]:
    """What a column's dtype may equal (GX's ``_validate_pandas`` of ``expect_column_values_to_be_in_type_list``)."""
    found: list[Any] = []
    for name in types:
        try:
            found += [np.dtype(name).type, np.dtype(name)]
        except TypeError:
            found += _pandas_types(name, instances=True)
        found += list(_NATIVE.get(name.lower(), ()))
    return tuple(found)


@lru_cache(maxsize=256)
def _value_types(types: tuple[str, ...]) -> tuple[type, ...]:
    """What each value of an object column may be an instance of (GX's ``column_values.in_type_list``)."""
    found: list[Any] = []
    for name in types:
        try:
            found.append(np.dtype(name).type)
        except TypeError:
            found += _pandas_types(name, instances=False)
        found += list(_NATIVE.get(name.lower(), ()))
    if not found:
        raise Unsure(f"no recognised type in {list(types)}")
    return tuple(found)


def _pandas_types(name: str, instances: bool) -> list[Any]:
    found: list[Any] = []
    kind = getattr(pd, name, None)
    if isinstance(kind, type):
        found.append(kind)
        if instances:
            try:
                made = kind()
            except TypeError:
                made = None
            if isinstance(made, pd.api.extensions.ExtensionDtype):
                found.append(made)
    inner = getattr(pd.core.dtypes.dtypes, name, None)
    if isinstance(inner, type):
        found.append(inner)
    return found


def dtype_in_list(dtype: Any, types: list[str]) -> bool:
    return bool(dtype in _dtype_types(tuple(types)))


def value_types(types: list[str]) -> tuple[type, ...]:
    return _value_types(tuple(types))
