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

from typing import Any

import numpy as np
import pandas as pd

MISSING = np.iinfo(np.uint64).max  # what pandas gives a missing value of a categorised column
NUMBERS = "biufmM"  # numpy kinds pandas hashes from their bits (complex excluded: pandas splits it)


def hash_rows(frame: pd.DataFrame) -> np.ndarray:
    """``hash_pandas_object(frame, index=False)`` as a uint64 array, one value per row.

    Columns are taken out a dtype at a time (one 2-D array each), not one by one: taking a
    column out of a frame costs more than hashing a hundred of its values.
    """
    hashed: dict[int, np.ndarray] = {}
    groups: dict[Any, list[int]] = {}
    for position, dtype in enumerate(frame.dtypes):
        groups.setdefault(dtype, []).append(position)
    for dtype, positions in groups.items():
        if isinstance(dtype, np.dtype) and dtype.kind in NUMBERS:
            block = frame.iloc[:, positions].to_numpy(dtype=dtype)
            hashed.update(zip(positions, mix(as_uint64(block)).T, strict=True))
        elif isinstance(dtype, np.dtype) and dtype.kind == "O":
            block = frame.iloc[:, positions].to_numpy(dtype=object)
            hashed.update((p, hash_text(np.ascontiguousarray(block[:, j]))) for j, p in enumerate(positions))
        else:  # datetimes, nullable numbers, categoricals, strings: pandas' own
            hashed.update((p, pandas_hash(frame.iloc[:, p])) for p in positions)
    return combine([hashed[p] for p in range(frame.shape[1])], len(frame))


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
    """pandas' redistribution of 64-bit values (splitmix64's finaliser), on a whole block at once."""
    values = values.copy() if not values.flags.writeable else values
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
