"""A model's SQL source as batches: closed time slices, each written out once into the home.

Every slice ever taken stays a batch (training pools the history), kept as one Parquet file
under ``<home>/sources/<model>/`` beside its record. A slice with no record here is read in
chunks and renamed into place whole; only then does its record exist and the watermark
(``registry.watermarks``, how far the model's source was taken, shared in the ledger) move,
so a run killed mid-read leaves both where they were and the next run reads that slice
again. An empty slice is recorded too, so a gap in the data is queried once. A slice
quarantined by intake (its file moved away, its record left) is skipped until a person
releases it, like an object set aside from a bucket. A slice whose record is missing here
(another machine's home, a cleaned cache) is read again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from training.data import DataError
from training.remote import ORIGIN
from training.sql_slices import closed_slices, describe, open_source, slice_name, span, write_slice

if TYPE_CHECKING:
    from base.settings import ModelConfig
    from base.settings_training import SqlSourceConfig


def source_key(sql: "SqlSourceConfig") -> str:
    """Names the source in the watermark table: same URL, table or query and slicing, same key."""
    raw = "\x1f".join((sql.url, sql.table or "", sql.query or "", sql.batch_every))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def sql_batches(config: "ModelConfig", cache: Path, take: bool = True) -> list[Path]:
    """Every closed slice's file in time order; new slices are read and the watermark moved."""
    from registry.ledger import open_ledger
    from registry.watermarks import move_mark, read_mark

    sql = config.data.sql
    assert sql is not None
    ts = config.data.timestamp_column
    engine = open_source(sql)
    try:
        low, high = span(engine, sql, ts)
        if low is None or high is None:
            raise DataError(describe(sql), "the source has no rows yet")
        ledger, key = open_ledger(config.ledger_url), source_key(sql)
        mark = read_mark(ledger, config.name, key)
        paths = []
        for start, end in closed_slices(low, high, pd.Timestamp.now(tz="UTC"), sql.batch_every):
            path = take_slice(engine, sql, ts, (start, end), cache / f"{key[:12]}-{start:%Y%m%d%H}")
            if path is not None:
                paths.append(path)
            if take and path is not None and (mark is None or end > mark):
                move_mark(ledger, config.name, key, end.to_pydatetime())
    finally:
        engine.dispose()
    if not paths:
        raise DataError(describe(sql), "no closed time slice with rows yet (or every one was set aside)")
    return paths


def take_slice(engine, sql: "SqlSourceConfig", ts: str, bounds: tuple, folder: Path) -> Path | None:
    """The slice's file, read now if this home has none; None when empty or set aside.

    An empty slice is recorded like any other (its record, no file), so a gap in the data is
    queried once, not again by every run.
    """
    start, end = bounds
    target = folder / slice_name(start, end, sql.batch_every)
    if (folder / ORIGIN).is_file():
        return target if target.is_file() else None
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(".slice-*"):  # a read killed mid-way (kill -9) left its partial file
        stale.unlink(missing_ok=True)
    rows = write_slice(engine, sql, ts, start.to_pydatetime(), end.to_pydatetime(), target)
    origin = {"url": f"{describe(sql)} [{start.isoformat()}, {end.isoformat()})", "rows": rows}
    (folder / ORIGIN).write_text(json.dumps(origin, indent=2))
    return target if rows else None
