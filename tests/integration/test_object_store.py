"""Batches in a real S3-compatible server (moto's standalone server on 127.0.0.1), read by URL.

The retrain, validation, drift, scoring and suite commands read from the bucket exactly as from
a folder; a broken object is set aside in the home and stays at its URL; an overwritten object
is a new batch; missing credentials and a stopped server are one line with exit 13.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid

import pandas as pd
import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from base.exitcodes import Exit
from base.settings import load_config

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory, local_net):
    """One moto server for the module; each test gets its own bucket."""
    port = local_net.free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not local_net.answers(f"{url}/moto-api/"):
        assert process.poll() is None and time.monotonic() < deadline, "moto server did not start"
        time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=20)
    log.close()


@pytest.fixture
def bucket(s3_server, monkeypatch, tmp_path):
    """A fresh bucket, and the standard AWS variables pointing at the test server."""
    import fsspec

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": s3_server,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
    }.items():
        monkeypatch.setenv(name, value)
    name = f"batches-{uuid.uuid4().hex[:10]}"
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    fs.mkdir(name)
    return name, fs


def put(fs, key: str, frame: pd.DataFrame) -> None:
    fs.pipe(key, frame.to_csv(index=False).encode())


@pytest.fixture
def s3_workspace(bucket, tmp_path, synth, migrated_mlflow_db, mlflow_globals, monkeypatch):
    """Three good months in the bucket, a config reading them by URL, a suite proposed from them."""
    import shutil

    from monitoring.validation import propose_suite, write_suite

    for var in ("RETRAIN_HOME", "RETRAIN_TRACKING_URI", "RETRAIN_LEDGER_URL"):
        monkeypatch.delenv(var, raising=False)
    name, fs = bucket
    (tmp_path / "home").mkdir()
    shutil.copy(migrated_mlflow_db, tmp_path / "home" / "mlflow.db")
    frames = [synth.make_month(m) for m in (1, 2, 3)]
    for month, frame in zip((1, 2, 3), frames, strict=True):
        put(fs, f"{name}/monthly/m{month:02d}.csv", frame)
    config_path = synth.write_config(tmp_path, data={"path": f"s3://{name}/monthly/*.csv"})
    config = load_config(config_path)
    write_suite(propose_suite(pd.concat(frames, ignore_index=True), config), config.suite_path)
    return config_path, name, fs


def versions(config) -> list[str]:
    client = MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.tracking_uri)
    return sorted(str(v.version) for v in client.search_model_versions(f"name='{config.name}'"))


def test_a_retrain_reads_the_bucket_and_sets_a_broken_object_aside_without_touching_it(s3_workspace, synth):
    config_path, name, fs = s3_workspace
    config = load_config(config_path)
    first = synth.run_flow(config_path)
    assert first["status"] == "promoted", first
    assert first["lineage"]["train_rows"] + first["lineage"]["holdout_rows"] == 900

    broken = synth.make_month(4).drop(columns=["x1"])
    put(fs, f"{name}/monthly/m04.csv", broken)
    second = synth.run_flow(config_path)
    assert second["status"] == "data_invalid", second
    assert fs.exists(f"{name}/monthly/m04.csv")  # never moved or deleted in the store
    held = [p.name for p in config.quarantine_dir.iterdir() if not p.name.endswith(".report.json")]
    assert held == ["m04.csv"]
    assert versions(config) == ["1"]

    put(fs, f"{name}/monthly/m05.csv", synth.make_month(5))
    third = synth.run_flow(config_path)  # the broken object is not taken again; the new one is
    assert third["status"] in {"promoted", "rejected"}, third
    assert third["quarantined"] == []
    assert "2024-05" in third["lineage"]["holdout_window"]


def test_an_overwritten_object_is_a_new_batch(s3_workspace, synth):
    from monitoring.sources import cache_dir, list_batches

    config_path, name, fs = s3_workspace
    config = load_config(config_path)
    before = list_batches(config)
    assert [p.name for p in before] == ["m01.csv", "m02.csv", "m03.csv"]
    assert list_batches(config) == before  # fetched once: the same identities, the same files

    put(fs, f"{name}/monthly/m02.csv", synth.make_month(2, seed=7))
    after = list_batches(config)
    assert after[0] == before[0] and after[2] == before[2]
    assert after[1] != before[1] and after[1].read_bytes() != before[1].read_bytes()
    assert len(list(cache_dir(config).iterdir())) == 4  # the old copy stays until pruned; only the new is listed


def test_partition_folders_are_one_batch_each(bucket, tmp_path, synth):
    from monitoring.sources import list_batches

    name, fs = bucket
    for month in (1, 2):
        frame = synth.make_month(month)
        half = len(frame) // 2
        for part, rows in enumerate((frame.iloc[:half], frame.iloc[half:])):
            fs.pipe(f"{name}/table/day=2024-0{month}-01/part-{part}.parquet", rows.to_parquet(index=False))
    config = load_config(synth.write_config(tmp_path, data={"path": f"s3://{name}/table/day=*"}))
    batches = list_batches(config)
    assert [p.name for p in batches] == ["day=2024-01-01.parquet", "day=2024-02-01.parquet"]
    assert len(pd.read_parquet(batches[0])) == 300


def test_commands_take_one_object_by_url(s3_workspace, synth):
    from retrain.cli import app

    config_path, name, fs = s3_workspace
    assert synth.run_flow(config_path)["status"] == "promoted"
    put(fs, f"{name}/incoming/m04.csv", synth.make_month(4))
    url = f"s3://{name}/incoming/m04.csv"

    checked = CliRunner().invoke(app, ["validate", str(config_path), url, "--json"])
    assert checked.exit_code == 0, checked.output
    drift = CliRunner().invoke(app, ["drift", str(config_path), url, "--json"])
    assert drift.exit_code in (0, 9, 14), drift.output  # a verdict, whatever it is
    assert json.loads(drift.stdout)["batch"] == "m04.csv"
    scored = CliRunner().invoke(app, ["score", str(config_path), url, "--out", str(config_path.parent / "s.csv")])
    assert scored.exit_code == 0, scored.output
    assert len(pd.read_csv(config_path.parent / "s.csv")) == 300
    suite = CliRunner().invoke(app, ["suite", "check", str(config_path), "--json"])
    assert suite.exit_code == 0, suite.output
    assert [b["batch"] for b in json.loads(suite.stdout)["batches"]] == ["m01.csv", "m02.csv", "m03.csv"]
    plot = config_path.parent / "backtest.png"
    replay = CliRunner().invoke(app, ["backtest", str(config_path), "--initial", "2", "--plot", str(plot), "--json"])
    assert replay.exit_code == 0, replay.output
    assert "m03.csv" in replay.stdout and plot.is_file()  # the history was read from the bucket
    missing = CliRunner().invoke(app, ["validate", str(config_path), f"s3://{name}/incoming/nothing.csv", "--json"])
    assert missing.exit_code == Exit.USAGE and "no object" in json.loads(missing.stdout)["error"]["message"]


def test_missing_credentials_and_a_stopped_store_are_one_line_exit_13(s3_workspace, monkeypatch, capfd):
    from retrain.cli import app

    config_path, name, _ = s3_workspace
    config = load_config(config_path)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    denied = CliRunner().invoke(app, ["run", str(config_path), "--json"])
    assert denied.exit_code == Exit.STORE_UNAVAILABLE, denied.output
    said = json.loads(denied.stdout)["error"]["message"]
    assert f"s3://{name}/monthly/*.csv" in said and "AWS_ACCESS_KEY_ID" in said

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    down = CliRunner().invoke(app, ["run", str(config_path), "--json"])
    assert down.exit_code == Exit.STORE_UNAVAILABLE, down.output
    assert "unreachable" in json.loads(down.stdout)["error"]["message"]
    printed = capfd.readouterr()
    assert "Traceback" not in printed.err + printed.out + denied.output + down.output
    assert versions(config) == [] and not config.quarantine_dir.exists()
