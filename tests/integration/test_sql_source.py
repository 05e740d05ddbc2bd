"""A PostgreSQL table of the demo's flights as the batch source: monthly slices, appended rows,
a read killed with ``kill -9``, and bad queries as config errors. Real PostgreSQL (the test
cluster), a schema of its own per test."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import sqlalchemy as sa
import yaml
from mlflow import MlflowClient
from typer.testing import CliRunner

from base.exitcodes import Exit
from base.settings import load_config

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "flights-late" / "flights-late.yaml"
APRIL_END = pd.Timestamp("2013-05-01", tz="UTC")


@pytest.fixture(scope="module")
def flights() -> pd.DataFrame:
    """January to April (UTC) of the demo's flights, every fifth row (a retrain in seconds)."""
    from retrain.demo.workspace import load_flights

    frame = load_flights()
    frame = frame[frame["month"] <= 5].iloc[::5].reset_index(drop=True)
    frame["time_hour"] = pd.to_datetime(frame["time_hour"], utc=True)
    return frame[frame["time_hour"] < APRIL_END].reset_index(drop=True)


def before_april(frame: pd.DataFrame) -> pd.Series:
    return frame["time_hour"] < pd.Timestamp("2013-04-01", tz="UTC")


def append(url: str, frame: pd.DataFrame) -> None:
    engine = sa.create_engine(url)
    frame.to_sql("flights", engine, index=False, if_exists="append", chunksize=2000, method="multi")
    engine.dispose()


def write_sql_config(root: Path, url: str, **sql) -> Path:
    raw = yaml.safe_load(EXAMPLE.read_text())
    raw["data"].pop("path")
    raw.pop("search", None)  # one estimator: this test is about the source, not the search
    raw["data"]["sql"] = {"url": url, "table": "flights", "batch_every": "month", "chunk_rows": 1000, **sql}
    raw["validation"]["suite"] = "flights.suite.json"
    raw["state"] = {"home": str(root / "home")}
    path = root / "flights-sql.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def template(pg_base_url, flights, tmp_path_factory):
    """January-March loaded once into a table of a schema of its own, and the suite proposed
    from them: each test copies the table inside the server and the suite file, instead of
    inserting the rows and proposing the suite again."""
    from monitoring.validation import propose_suite, write_suite

    schema = f"retrain_tpl_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(pg_base_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    first = flights[before_april(flights)]
    append(f"{pg_base_url}?options=-csearch_path%3D{schema}", first)
    root = tmp_path_factory.mktemp("sql-template")
    config = load_config(write_sql_config(root, f"{pg_base_url}?options=-csearch_path%3D{schema}"))
    write_suite(propose_suite(first, config), config.suite_path)
    yield SimpleNamespace(table=f"{schema}.flights", suite=config.suite_path)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    engine.dispose()


@pytest.fixture
def sql_workspace(tmp_path, pg_ledger_url, template, migrated_mlflow_db, mlflow_globals, monkeypatch):
    """January-March in a PostgreSQL table, a config slicing it by month, a suite proposed from it."""
    import shutil

    for var in ("RETRAIN_HOME", "RETRAIN_TRACKING_URI", "RETRAIN_LEDGER_URL"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "home").mkdir()
    shutil.copy(migrated_mlflow_db, tmp_path / "home" / "mlflow.db")
    engine = sa.create_engine(pg_ledger_url)
    with engine.begin() as conn:  # the test's schema is first on the search path
        conn.exec_driver_sql(f"CREATE TABLE flights AS SELECT * FROM {template.table}")
    engine.dispose()
    config_path = write_sql_config(tmp_path, pg_ledger_url)
    shutil.copy(template.suite, load_config(config_path).suite_path)
    return config_path, pg_ledger_url


def mark_of(config) -> pd.Timestamp | None:
    from monitoring.sql_source import source_key
    from registry.ledger import open_ledger
    from registry.watermarks import read_mark

    found = read_mark(open_ledger(config.ledger_url), config.name, source_key(config.data.sql))
    return None if found is None else pd.Timestamp(found)


def slice_rows(paths: list[Path]) -> int:
    return sum(len(pd.read_parquet(p)) for p in paths)


def test_monthly_slices_train_and_appended_rows_are_the_next_batch(sql_workspace, flights, synth):
    from monitoring.sources import list_batches

    config_path, url = sql_workspace
    config = load_config(config_path)
    first = synth.run_flow(config_path)
    assert first["status"] == "promoted", first
    batches = list_batches(config)
    assert [p.name for p in batches] == [
        "2013-01-01_2013-02-01.parquet",
        "2013-02-01_2013-03-01.parquet",
        "2013-03-01_2013-04-01.parquet",
    ]
    assert slice_rows(batches) == int(before_april(flights).sum())  # every row once
    assert mark_of(config) == pd.Timestamp("2013-04-01", tz="UTC")

    append(url, flights[~before_april(flights)])
    second = synth.run_flow(config_path)
    assert second["status"] in {"promoted", "rejected"}, second
    assert "2013-04" in second["lineage"]["holdout_window"]
    assert slice_rows(list_batches(config)) == len(flights)  # April once, nothing doubled
    assert mark_of(config) == pd.Timestamp("2013-05-01", tz="UTC")


def test_a_read_killed_mid_slice_leaves_the_watermark_and_is_read_again(sql_workspace, flights, child_env):
    from monitoring.sources import cache_dir, list_batches

    config_path, _ = sql_workspace
    config = load_config(config_path)
    script = "import sys; from base.settings import load_config; from monitoring.sources import list_batches; "
    script += "list_batches(load_config(sys.argv[1]))"
    killed = subprocess.run(
        [sys.executable, "-c", script, str(config_path)],
        env=child_env(RETRAIN_FAILPOINT="mid_slice"),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert mark_of(config) is None
    assert not list(cache_dir(config).rglob("*.parquet")) or all(
        p.name.startswith(".slice-") for p in cache_dir(config).rglob("*.parquet")
    )

    batches = list_batches(config)
    assert len(batches) == 3 and slice_rows(batches) == int(before_april(flights).sum())
    assert not list(cache_dir(config).rglob(".slice-*"))  # the partial file of the killed read is gone
    assert mark_of(config) == pd.Timestamp("2013-04-01", tz="UTC")


@pytest.mark.parametrize(
    ("sql", "words"),
    [
        ({"table": None, "query": "SELEC nonsense FROM flights"}, "syntax"),
        ({"table": "no_such_table"}, "no_such_table"),
    ],
)
def test_a_bad_query_or_table_is_a_config_error(sql_workspace, sql, words, capfd):
    from retrain.cli import app

    config_path, url = sql_workspace
    bad = write_sql_config(config_path.parent, url, **sql)
    answer = CliRunner().invoke(app, ["run", str(bad), "--json"])
    assert answer.exit_code == Exit.USAGE, answer.output
    error = json.loads(answer.stdout)["error"]
    assert error["kind"] == "config" and words in error["message"]
    printed = capfd.readouterr()
    assert "Traceback" not in printed.err + printed.out + answer.output
    client = MlflowClient(tracking_uri=load_config(bad).tracking_uri, registry_uri=load_config(bad).tracking_uri)
    assert client.search_registered_models() == []


def test_a_missing_timestamp_column_and_a_stopped_database(sql_workspace):
    from retrain.cli import app

    config_path, _ = sql_workspace
    raw = yaml.safe_load(config_path.read_text())
    raw["data"]["timestamp_column"] = "no_such_column"
    config_path.write_text(yaml.safe_dump(raw, sort_keys=False))
    missing = CliRunner().invoke(app, ["run", str(config_path), "--json"])
    assert missing.exit_code == Exit.USAGE and "no_such_column" in json.loads(missing.stdout)["error"]["message"]

    down = write_sql_config(config_path.parent, "postgresql+psycopg://postgres@127.0.0.1:9/test")
    answer = CliRunner().invoke(app, ["run", str(down), "--json"])
    assert answer.exit_code == Exit.STORE_UNAVAILABLE, answer.output
    assert json.loads(answer.stdout)["error"]["message"].startswith("SQL source at postgresql+psycopg://")


def test_a_password_in_the_url_is_refused(tmp_path):
    from base.settings import ConfigError

    with pytest.raises(ConfigError, match="PGPASSWORD"):
        load_config(write_sql_config(tmp_path, "postgresql+psycopg://user:secret@db/x"))
