"""The batch-source seam on ``file://`` URLs (fsspec's local store): identity, partitions, set-aside.

The same code reads S3, GCS and Azure; ``tests/integration/test_object_store.py`` runs it
against a real S3-compatible server.
"""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest
import yaml

from base.settings import ConfigError, load_config
from base.stores import install_hint, is_remote, is_url, refuse_secrets
from monitoring.sources import cache_dir, fetch_batch, list_batches
from training.data import DataError
from training.remote import ORIGIN


def month(n: int, rows: int = 20) -> pd.DataFrame:
    ts = pd.date_range(f"2024-{n:02d}-01", periods=rows, freq="h", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    return pd.DataFrame({"ts": ts, "x": range(rows), "y": [i % 2 for i in range(rows)]})


def origin_of(path) -> str:
    """Where a fetched copy came from, as its record beside it says."""
    return json.loads((path.parent / ORIGIN).read_text())["url"]


def config_for(tmp_path, path: str | None, **data):
    raw = {
        "name": "m",
        "task": "binary",
        "data": {**({"path": path} if path else {}), "timestamp_column": "ts", "target_column": "y", **data},
        "validation": {"suite": "m.suite.json"},
        "state": {"home": str(tmp_path / "home")},
    }
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(raw))
    return load_config(tmp_path / "m.yaml")


def test_urls_are_told_from_paths_and_name_their_extra():
    assert is_url("s3://b/x/*.csv") and is_remote("gs://b/x") and is_url("file:///tmp/x")
    assert not is_remote("file:///tmp/x") and not is_url("batches/*.csv") and not is_url("C:\\data\\x.csv")
    assert install_hint("s3://b/x") == "pip install 'retrain[s3]'"
    assert install_hint("abfs://c/x") == "pip install 'retrain[azure]'"


SECRETS = [{"secret": "x"}, {"client_kwargs": {"aws_secret_access_key": "x"}}, {"token": "t"}]


@pytest.mark.parametrize("options", SECRETS)
def test_storage_options_refuse_credentials(options, tmp_path):
    with pytest.raises(ValueError, match="looks like a credential"):
        refuse_secrets(options)
    with pytest.raises(ConfigError, match="storage_options"):
        config_for(tmp_path, "s3://b/*.csv", storage_options=options)
    assert refuse_secrets({"client_kwargs": {"endpoint_url": "http://x", "region_name": "eu"}, "profile": "p"})


def test_url_batches_are_fetched_once_and_an_overwrite_is_a_new_batch(tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    for n in (1, 2):
        month(n).to_csv(store / f"m{n:02d}.csv", index=False)
    config = config_for(tmp_path, f"file://{store}/*.csv")
    first = list_batches(config)
    assert [p.name for p in first] == ["m01.csv", "m02.csv"]
    assert all(p.is_relative_to(cache_dir(config)) for p in first)
    assert origin_of(first[0]) == f"file://{store}/m01.csv"
    assert list_batches(config) == first

    month(2, rows=30).to_csv(store / "m02.csv", index=False)
    os.utime(store / "m02.csv", (1_900_000_000, 1_900_000_000))
    second = list_batches(config)
    assert second[0] == first[0] and second[1] != first[1]
    assert len(pd.read_csv(second[1])) == 30 and (store / "m02.csv").is_file()


def test_a_set_aside_object_is_skipped_until_it_is_put_back(tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    for n in (1, 2):
        month(n).to_csv(store / f"m{n:02d}.csv", index=False)
    config = config_for(tmp_path, f"file://{store}/*.csv")
    fetched = list_batches(config)
    held = tmp_path / "held.csv"
    fetched[1].rename(held)  # what quarantine does with the local copy
    assert list_batches(config) == fetched[:1]
    assert (store / "m02.csv").is_file()  # the store itself is never touched
    held.rename(fetched[1])  # a release puts the copy back
    assert list_batches(config) == fetched


def test_a_partition_folder_is_one_batch(tmp_path):
    for n in (1, 2):
        part = tmp_path / "table" / f"day=2024-0{n}-01"
        part.mkdir(parents=True)
        frame = month(n)
        frame.iloc[:10].to_parquet(part / "a.parquet", index=False)
        frame.iloc[10:].to_parquet(part / "b.parquet", index=False)
    config = config_for(tmp_path, f"file://{tmp_path}/table/day=*")
    batches = list_batches(config)
    assert [p.name for p in batches] == ["day=2024-01-01.parquet", "day=2024-02-01.parquet"]
    assert pd.read_parquet(batches[1])["x"].tolist() == list(range(20))
    assert origin_of(batches[0]) == f"file://{tmp_path}/table/day=2024-01-01/"


def test_nothing_matching_and_one_batch_by_url_are_clear(tmp_path):
    (tmp_path / "store").mkdir()
    config = config_for(tmp_path, f"file://{tmp_path}/store/*.csv")
    with pytest.raises(DataError, match="no batch objects match"):
        list_batches(config)
    with pytest.raises(DataError, match="no object at this URL"):
        fetch_batch(f"file://{tmp_path}/store/none.csv", config)
    month(1).to_csv(tmp_path / "store" / "one.csv", index=False)
    assert fetch_batch(f"file://{tmp_path}/store/one.csv", config).name == "one.csv"
    assert fetch_batch(tmp_path / "store" / "one.csv", config) == tmp_path / "store" / "one.csv"


def test_sql_slices_are_recorded_once_empty_ones_included(tmp_path):
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'src.db'}"
    days = ["2024-01-01", "2024-01-03"]  # 2 January has no rows
    frame = pd.concat([month(1, rows=24).assign(ts=pd.date_range(d, periods=24, freq="h")) for d in days])
    frame["ts"] = frame["ts"].dt.strftime("%Y-%m-%d %H:%M:%S")
    frame.to_sql("events", sa.create_engine(url), index=False)
    config = config_for(tmp_path, None, sql={"url": url, "table": "events", "batch_every": "day"})

    first = list_batches(config)
    assert [p.name for p in first] == ["2024-01-01_2024-01-02.parquet", "2024-01-03_2024-01-04.parquet"]
    records = sorted(cache_dir(config).glob(f"*/{ORIGIN}"))
    assert [json.loads(r.read_text())["rows"] for r in records] == [24, 0, 24]  # the gap is recorded, empty
    assert list_batches(config) == first
