"""Find and read batch files.

A batch that cannot be trusted must fail loudly and say which file and why: a silently
half-read CSV would train a model on a truncated month and nobody would notice. Every
problem therefore becomes a ``DataError(path, reason)`` that intake turns into a failed
validation report and a quarantined file.
"""

from __future__ import annotations

import csv
import glob as globlib
import hashlib
import io
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from base.errors import Kind, RetrainError

if TYPE_CHECKING:
    from base.settings import ModelConfig

CSV_SUFFIXES = {".csv"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
SNIFF_BYTES = 8192
TAIL_BYTES = 65536
CACHE_FROM = 500  # rows from which pandas' timestamp cache is faster than parsing each value


class DataError(RetrainError):
    """A batch (or a frame built from batches) that cannot be used; says where and why."""

    kind = Kind.DATA_INVALID

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}", file=self.path)


def find_batches(glob: str) -> list[Path]:
    """All files matching ``glob`` in name order (names usually carry the date)."""
    paths = sorted(Path(p) for p in globlib.glob(glob, recursive=True) if Path(p).is_file())
    if not paths:
        raise DataError(glob, "no batch files match this pattern")
    return paths


def load_batch(path: Path, timestamp_column: str) -> pd.DataFrame:
    """Read one CSV or Parquet batch and parse its timestamp column to UTC."""
    path = Path(path)
    kind = _file_kind(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    if path.stat().st_size == 0:
        raise DataError(path, "empty file (0 bytes)")
    df = _read_csv(path) if kind == "csv" else _read_parquet(path)
    if len(df.columns) == 0 or len(df) == 0:
        raise DataError(path, "no data rows (the file has only a header or nothing at all)")
    if timestamp_column not in df.columns:
        shown = ", ".join(map(str, list(df.columns)[:20]))
        raise DataError(path, f"missing timestamp column {timestamp_column!r} (columns: {shown})")
    df[timestamp_column] = parse_timestamps(df[timestamp_column], path)
    return df


def _file_kind(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if (suffixes and suffixes[-1] in CSV_SUFFIXES) or suffixes[-2:] == [".csv", ".gz"]:
        return "csv"
    if suffixes and suffixes[-1] in PARQUET_SUFFIXES:
        return "parquet"
    raise DataError(path, f"unsupported file type {path.suffix or '(no suffix)'!r}; expected .csv or .parquet")


def _read_csv(path: Path) -> pd.DataFrame:
    """Read a CSV strictly: parser errors, binary content and a cut-off last row all fail."""
    compressed = path.suffix.lower() == ".gz"
    if not compressed and b"\x00" in path.open("rb").read(SNIFF_BYTES):
        raise DataError(path, "binary content (NUL bytes); not a text CSV")
    try:
        df = pd.read_csv(path, low_memory=False)
    except pd.errors.EmptyDataError as exc:
        raise DataError(path, f"empty CSV: {exc}") from None
    except pd.errors.ParserError as exc:
        raise DataError(path, f"corrupt or truncated CSV: {str(exc).strip()}") from None
    except UnicodeDecodeError as exc:
        raise DataError(path, f"not a UTF-8 text CSV: {exc}") from None
    except (OSError, ValueError) as exc:
        raise DataError(path, f"unreadable CSV: {type(exc).__name__}: {exc}") from None
    if not compressed and len(df) and df.iloc[-1].isna().iloc[-1]:
        _check_last_row(path, len(df.columns))
    return df


def _check_last_row(path: Path, n_columns: int) -> None:
    """pandas pads a short last row with NaN; a file cut mid-line looks exactly like that."""
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - TAIL_BYTES))
        tail = fh.read().decode("utf-8", errors="replace")
    lines = [line for line in tail.splitlines() if line.strip()]
    if not lines:
        return
    fields = next(csv.reader(io.StringIO(lines[-1])), [])
    if len(fields) < n_columns:
        raise DataError(
            path, f"corrupt or truncated CSV: last row has {len(fields)} of {n_columns} fields (file cut mid-line?)"
        )


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many unrelated types for damaged files
        raise DataError(path, f"corrupt or unreadable Parquet: {type(exc).__name__}: {exc}") from None


def parse_timestamps(values: pd.Series, path: str | Path = "(frame)") -> pd.Series:
    """Parse to tz-aware UTC; any missing or unparseable value is an error, with a count."""
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values.dt.tz_localize("UTC") if values.dt.tz is None else values.dt.tz_convert("UTC")
    elif values.notna().any() and (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
        raise DataError(path, f"timestamp column {values.name!r} is numeric ({values.dtype}); expected dates")
    else:
        parsed = _parse_strings(values)
    bad = parsed.isna()
    if bad.any():
        examples = ", ".join(repr(v) for v in values[bad].astype(str).unique()[:3])
        raise DataError(
            path,
            f"{int(bad.sum())} of {len(values)} rows have a missing or unparseable timestamp "
            f"in {values.name!r} (e.g. {examples})",
        )
    return parsed


def _parse_strings(values: pd.Series) -> pd.Series:
    """ISO 8601 first (exact and fast); fall back to per-value parsing for other layouts."""
    # pandas' cache of distinct values pays off on a batch (timestamps repeat), not on a request's few rows
    iso = pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601", cache=len(values) > CACHE_FROM)
    if not iso.isna().any():
        return iso
    mixed = pd.to_datetime(values, utc=True, errors="coerce", format="mixed")
    return mixed if mixed.isna().sum() < iso.isna().sum() else iso


def load_frames(paths: list[Path], timestamp_column: str) -> pd.DataFrame:
    """Load several batches into one frame (row order: file order, then file row order)."""
    if not paths:
        raise DataError("(no files)", "no batches to load")
    frames = [load_batch(p, timestamp_column) for p in paths]
    return pd.concat(frames, ignore_index=True)


def frame_hash(df: pd.DataFrame) -> str:
    """Content hash for lineage: same columns and values in the same order → same hash."""
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, df.columns)).encode())
    digest.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def select_features(df: pd.DataFrame, config: "ModelConfig") -> list[str]:
    """The model's input columns: the configured list, or everything not excluded."""
    data = config.data
    reserved = {data.timestamp_column, data.target_column}
    if data.features is not None:
        missing = [c for c in data.features if c not in df.columns]
        if missing:
            raise DataError(config.data_glob, f"configured features missing from the data: {', '.join(missing)}")
        leaking = [c for c in data.features if c in reserved]
        if leaking:
            reason = f"features must not include the timestamp or target: {', '.join(leaking)}"
            raise DataError(config.data_glob, reason)
        return list(data.features)
    dropped = reserved | set(data.exclude)
    features = [c for c in df.columns if c not in dropped]
    if not features:
        raise DataError(config.data_glob, "no feature columns left after excluding timestamp, target and data.exclude")
    return features


def is_categorical(series: pd.Series) -> bool:
    """Whether a column holds labels rather than quantities (text, booleans, categoricals).

    Training encodes these columns and the proposed suite lists their values, so both must
    agree on which columns they are.
    """
    dtype = series.dtype
    return (
        pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or pd.api.types.is_bool_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
    )


def is_number(series: pd.Series) -> bool:
    """Whether a column holds quantities: numeric, but not booleans, which pandas counts as numbers."""
    return pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)
