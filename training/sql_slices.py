"""Batches from a SQL table or query: closed time slices, each read in chunks into one Parquet file.

A table that grows every hour has no files to list, so its batches are time slices of the
timestamp column (``data.sql.batch_every``: hour, day, week or month). A slice is taken only
once it is closed (its end has passed), and it is written out ``chunk_rows`` rows at a time,
so a large slice never sits in memory, let alone twice. Slices are half-open ``[start, end)``:
no row belongs to two of them. Which slices were already taken is the watermark's business
(``registry.watermarks``); this module only reads.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from base.environment import failpoint
from base.errors import Kind, RetrainError, store_faults
from base.secrets import redact_url

if TYPE_CHECKING:
    from base.settings_training import SqlSourceConfig

PERIOD = {"hour": "h", "day": "D", "week": "W-SUN", "month": "M"}
SQL_CHECK = "check that the database is up and that data.sql.url and the driver's environment (PGPASSWORD) are right"


def open_source(sql: "SqlSourceConfig") -> Any:
    import sqlalchemy as sa

    with sql_faults(sql):
        return sa.create_engine(sql.url, connect_args=_timeout(sql.url))


def span(engine: Any, sql: "SqlSourceConfig", ts: str) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The oldest and newest timestamp of the source (None, None when it has no rows)."""
    import sqlalchemy as sa

    column = _time_of(engine, ts)
    with sql_faults(sql), engine.connect() as conn:
        row = conn.execute(sa.text(f"SELECT min({column}), max({column}) FROM {_source(engine, sql)}")).one()
    low, high = (None if v is None else pd.Timestamp(v) for v in row)
    return _utc(low), _utc(high)


def closed_slices(
    low: pd.Timestamp, high: pd.Timestamp, now: pd.Timestamp, every: str
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Every period from the one holding ``low`` to the one holding ``high``, if it ended by ``now``."""
    freq = PERIOD[every]
    periods = pd.period_range(low.tz_convert(None).to_period(freq), high.tz_convert(None).to_period(freq), freq=freq)
    bounds = [(p.start_time.tz_localize("UTC"), (p + 1).start_time.tz_localize("UTC")) for p in periods]
    return [(start, end) for start, end in bounds if end <= now]


def slice_name(start: pd.Timestamp, end: pd.Timestamp, every: str) -> str:
    layout = "%Y-%m-%dT%H%M" if every == "hour" else "%Y-%m-%d"
    return f"{start.strftime(layout)}_{end.strftime(layout)}.parquet"


def write_slice(engine: Any, sql: "SqlSourceConfig", ts: str, start: datetime, end: datetime, target: Path) -> int:
    """Rows of ``[start, end)`` into ``target`` (renamed into place only when whole); their count."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import sqlalchemy as sa

    column = _time_of(engine, ts)
    query = sa.text(
        f"SELECT * FROM {_source(engine, sql)} WHERE {column} >= :start AND {column} < :end ORDER BY {column}"
    )
    bounds = {"start": _bound(engine, start), "end": _bound(engine, end)}
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=".slice-", suffix=".parquet")
    os.close(handle)
    rows, writer = 0, None
    try:
        with sql_faults(sql), engine.connect() as conn:
            for chunk in pd.read_sql_query(query, conn, params=bounds, chunksize=sql.chunk_rows):
                if chunk.empty:
                    continue
                table = pa.Table.from_pandas(chunk, preserve_index=False)
                writer = writer or pq.ParquetWriter(temp, table.schema)
                writer.write_table(table.cast(writer.schema))
                rows += len(chunk)
                failpoint("mid_slice")  # crash tests: killed after the first chunk
        if writer is not None:
            writer.close()
            os.replace(temp, target)
        return rows
    finally:
        Path(temp).unlink(missing_ok=True)


def describe(sql: "SqlSourceConfig") -> str:
    return f"{redact_url(sql.url)} ({'table ' + sql.table if sql.table else 'query'})"


@contextmanager
def sql_faults(sql: "SqlSourceConfig") -> Iterator[None]:
    """A down database is a store fault (exit 13); a bad query, table or column a config error (exit 2)."""
    import sqlalchemy as sa

    with store_faults("SQL source", sql.url, SQL_CHECK, bad_url=(sa.exc.ArgumentError, sa.exc.NoSuchModuleError)):
        try:
            yield
        except (sa.exc.ProgrammingError, sa.exc.DataError, sa.exc.OperationalError) as exc:
            problem = " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]
            if isinstance(exc, sa.exc.OperationalError) and not _names_the_query(problem):
                raise  # the database itself: a store fault
            raise RetrainError(
                f"{describe(sql)}: the source cannot be read: {problem}", kind=Kind.CONFIG, field="data.sql"
            ) from None


def _names_the_query(problem: str) -> bool:
    """SQLite reports a missing table or column, or bad syntax, as an OperationalError."""
    return any(words in problem for words in ("no such table", "no such column", "syntax error"))


def _source(engine: Any, sql: "SqlSourceConfig") -> str:
    if sql.query is not None:
        return f"({sql.query.strip().rstrip(';')}) AS retrain_source"
    assert sql.table is not None  # SqlSourceConfig names exactly one
    return ".".join(_quote(engine, part) for part in sql.table.split("."))


def _time_of(engine: Any, ts: str) -> str:
    """The timestamp column as the database compares times.

    SQLite keeps times as text and compares text, so ``'2024-01-02 00:00:00'`` sorts before the
    bound ``'2024-01-02 00:00:00.000000'`` and a midnight row would fall into the slice before:
    there both sides go through ``datetime()``, which reads every ISO 8601 layout alike.
    """
    column = _quote(engine, ts)
    return f"datetime({column})" if engine.dialect.name == "sqlite" else column


def _bound(engine: Any, value: datetime) -> Any:
    if engine.dialect.name != "sqlite":
        return value
    moment = _utc(pd.Timestamp(value))
    assert moment is not None
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _quote(engine: Any, name: str) -> str:
    return str(engine.dialect.identifier_preparer.quote(name))


def _utc(value: pd.Timestamp | None) -> pd.Timestamp | None:
    if value is None:
        return None
    return value.tz_localize("UTC") if value.tzinfo is None else value.tz_convert("UTC")


def _timeout(url: str) -> dict[str, Any]:
    return {"connect_timeout": 10} if url.startswith("postgresql") else {}
