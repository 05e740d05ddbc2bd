"""Row ids from the rows' values: pandas' ``hash_pandas_object`` values, computed faster.

A row's id is what its label is later joined on, so the number must never change between
releases of ours: it is exactly ``pd.util.hash_pandas_object(frame, index=False)``. pandas
hashes a text column by first finding its distinct values (``categorize``), a cost that
dominates a request of a hundred rows; for a column holding only text and missing values,
hashing each value directly gives the same numbers once a missing value is given pandas'
value for a missing category (the largest uint64). Any other column is hashed by pandas
itself, so mixed objects (where pandas treats ``1`` and ``1.0`` as one category) keep its answer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MISSING = np.iinfo(np.uint64).max  # what pandas gives a missing value of a categorised column
NUMBERS = "biufmM"  # numpy kinds pandas hashes from their bits (complex excluded: pandas splits it)


def hash_rows(frame: pd.DataFrame, columns: list[str] | None = None) -> np.ndarray:
    """``hash_pandas_object(frame[columns], index=False)`` as a uint64 array, one value per row.

    Number columns are mixed together as one 2-D block (the same arithmetic pandas applies to
    each column), so a wide frame costs a few array operations instead of a few per column.
    """
    hashed: dict[int, np.ndarray] = {}
    numbers: list[tuple[int, np.ndarray]] = []
    if columns is None or not frame.columns.is_unique:
        chosen = (frame if columns is None else frame[columns]).items()
    else:  # no sub-frame built: a column is taken out of the frame as it is
        chosen = ((name, frame[name]) for name in columns)
    for position, (_, values) in enumerate(chosen):
        raw = bits_of(values)
        if raw is not None:
            numbers.append((position, raw))
        elif values.dtype.kind == "O" and isinstance(values.array, pd.arrays.NumpyExtensionArray):
            hashed[position] = hash_text(values.to_numpy())
        else:  # nullable numbers, categoricals, strings, periods: pandas' own
            hashed[position] = pandas_hash(values)
    if numbers:
        mixed = mix(np.stack([raw for _, raw in numbers], axis=1))
        hashed.update((position, mixed[:, j]) for j, (position, _) in enumerate(numbers))
    return combine([hashed[position] for position in sorted(hashed)], len(frame))


def bits_of(values: pd.Series) -> np.ndarray | None:
    """A column's values as the uint64 pandas hashes (before mixing), or None if pandas treats it otherwise."""
    dtype = values.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        return values.array.asi8.astype(np.uint64)  # pandas hashes an aware time by its UTC nanoseconds
    if isinstance(dtype, np.dtype) and dtype.kind in NUMBERS:
        return as_uint64(values.to_numpy())
    return None


def pandas_hash(values: pd.Series) -> np.ndarray:
    array = values.array
    return pd.util.hash_array(array.to_numpy() if isinstance(array, pd.arrays.NumpyExtensionArray) else array)


def as_uint64(block: np.ndarray) -> np.ndarray:
    """A number block's bits as uint64, as pandas reads them (booleans as 0/1, no NaN normalising)."""
    if block.dtype == bool:
        return block.astype(np.uint64)
    if block.dtype.kind in "mM":
        return block.view("i8").astype(np.uint64, copy=False)
    return block.view(f"u{block.dtype.itemsize}").astype(np.uint64)


def mix(values: np.ndarray) -> np.ndarray:
    """pandas' redistribution of 64-bit values (splitmix64's finaliser), in place on a new block."""
    values ^= values >> np.uint64(30)
    values *= np.uint64(0xBF58476D1CE4E5B9)
    values ^= values >> np.uint64(27)
    values *= np.uint64(0x94D049BB133111EB)
    values ^= values >> np.uint64(31)
    return values


def hash_text(raw: np.ndarray) -> np.ndarray:
    """An object column: text hashed value by value with pandas' missing value, anything else by pandas."""
    if pd.api.types.infer_dtype(raw, skipna=True) != "string":
        return pd.util.hash_array(raw)
    missing = pd.isna(raw)
    if missing.any():
        raw = np.where(missing, "", raw)  # any text: the value is replaced below
    hashed = pd.util.hash_array(raw, categorize=False)
    hashed[missing] = MISSING
    return hashed


def combine(columns: list[np.ndarray], rows: int) -> np.ndarray:
    """pandas' combination of per-column hashes (CPython's tuple hash, vectorised)."""
    if not columns:
        return np.array([], dtype=np.uint64)
    mult = np.uint64(1000003)
    out = np.zeros(rows, dtype=np.uint64) + np.uint64(0x345678)
    for i, hashed in enumerate(columns):
        inverse = len(columns) - i
        out ^= hashed
        out *= mult
        mult += np.uint64(82520 + inverse + inverse)
    out += np.uint64(97531)
    return out
