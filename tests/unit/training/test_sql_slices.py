"""Time slices of a SQL source on SQLite: closed periods only, half-open bounds, chunked writes."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest
import sqlalchemy as sa

from base.errors import RetrainError
from base.settings_training import SqlSourceConfig
from training.sql_slices import closed_slices, open_source, slice_name, span, write_slice

UTC = "UTC"


def test_only_closed_periods_from_the_first_row_to_the_last():
    low, high = pd.Timestamp("2024-01-15 10:00", tz=UTC), pd.Timestamp("2024-03-02", tz=UTC)
    months = closed_slices(low, high, pd.Timestamp("2024-03-20", tz=UTC), "month")
    assert [(s.month, e.month) for s, e in months] == [(1, 2), (2, 3)]  # March has not ended yet
    days = closed_slices(low, high, pd.Timestamp("2030-01-01", tz=UTC), "day")
    assert days[0][0] == pd.Timestamp("2024-01-15", tz=UTC) and days[-1][1] == pd.Timestamp("2024-03-03", tz=UTC)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(days))  # no gap, no overlap
    assert slice_name(*months[0], "month") == "2024-01-01_2024-02-01.parquet"
    assert slice_name(*days[0], "hour").startswith("2024-01-15T0000_")


@pytest.fixture
def source(tmp_path):
    url = f"sqlite:///{tmp_path / 'src.db'}"
    ts = pd.date_range("2024-01-01", periods=240, freq="3h", tz=UTC)
    frame = pd.DataFrame({"ts": ts.strftime("%Y-%m-%d %H:%M:%S"), "x": range(240)})
    frame.to_sql("events", sa.create_engine(url), index=False)
    return url


def test_a_slice_is_written_in_chunks_with_each_row_once(source, tmp_path):
    sql = SqlSourceConfig(url=source, table="events", batch_every="day", chunk_rows=3)
    engine = open_source(sql)
    low, high = span(engine, sql, "ts")
    assert (low, high) == (pd.Timestamp("2024-01-01", tz=UTC), pd.Timestamp("2024-01-30 21:00", tz=UTC))
    slices = closed_slices(low, high, pd.Timestamp("2030-01-01", tz=UTC), "day")
    assert len(slices) == 30
    total = 0
    for start, end in slices:
        target = tmp_path / slice_name(start, end, "day")
        total += write_slice(
            engine, sql, "ts", start.strftime("%Y-%m-%d %H:%M:%S"), end.strftime("%Y-%m-%d %H:%M:%S"), target
        )
        assert len(pd.read_parquet(target)) == 8
    assert total == 240


def test_a_missing_table_or_column_is_a_config_error(source):
    engine = open_source(SqlSourceConfig(url=source, table="events"))
    with pytest.raises(RetrainError, match="no such table: missing_table") as missing:
        span(engine, SqlSourceConfig(url=source, table="missing_table"), "ts")
    assert missing.value.kind == "config"
    with pytest.raises(RetrainError, match="no such column"):
        span(engine, SqlSourceConfig(url=source, query="SELECT x FROM events"), "ts")


def test_the_config_names_one_source_and_no_password():
    with pytest.raises(ValueError, match="exactly one of table or query"):
        SqlSourceConfig(url="sqlite://", table="a", query="SELECT 1")
    with pytest.raises(ValueError, match="PGPASSWORD"):
        SqlSourceConfig(url="postgresql://u:secret@h/db", table="a")
