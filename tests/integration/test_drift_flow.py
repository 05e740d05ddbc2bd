"""Drift checks against the champion's stored reference: the flow (MLflow, artifacts, events)
and the ``retrain drift`` CI gate, on real GX, Evidently, MLflow and a Prefect test server."""

from __future__ import annotations

import json
import time

import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from base.exitcodes import Exit
from base.settings import load_config

pytestmark = pytest.mark.integration


def quiet_month(synth):
    """A fresh month from the same process as the training data (tails kept inside the suite's range)."""
    df = synth.make_month(4, rows=1500)
    df["x1"] = df["x1"].clip(-2.5, 2.5)
    return df


def shifted_month(synth):
    """Same columns and value ranges (the suite passes), other distributions, flipped labels."""
    df = synth.make_month(4, rows=1500, flip=True)
    df["x1"] = df["x1"].abs().clip(upper=2.5)
    df["x2"] = (df["x2"] * 0.2 + 8).round(4)
    df["colour"] = "red"
    return df


# The synthetic reference is small (600 rows): at that size only shifts of 0.3 std can be
# told from noise, so these tests count those (the default 0.1 needs about 700 rows a side).
COARSE = {"min_effect": {"numerical": 0.3, "categorical": 0.2, "prediction": 0.3}}


@pytest.fixture
def champion(workspace, synth, tmp_path):
    """A promoted v1 of ``synth`` and a folder for incoming batches outside the training glob."""
    synth.write_config(tmp_path, drift=COARSE)
    outcome = synth.run_flow(workspace)
    assert outcome["status"] == "promoted", outcome
    (tmp_path / "incoming").mkdir()
    return workspace


def write_batch(tmp_path, frame, name: str):
    path = tmp_path / "incoming" / name
    frame.to_csv(path, index=False)
    return path


def read_model_events(model: str, check_run: str, wanted: int, timeout: float = 60) -> list:
    """Events about the model as the server stored them (the emitter sends in the background)."""
    from prefect import get_client
    from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter

    query = EventFilter(
        event=EventNameFilter(prefix=["retrain."]), resource=EventResourceFilter(id=[f"retrain.model.{model}"])
    )
    deadline = time.monotonic() + timeout
    while True:
        with get_client(sync_client=True) as client:
            found = client.read_events(filter=query, limit=50).events
        events = [e for e in found if e.payload.get("mlflow_run_id") == check_run]
        if len(events) >= wanted or time.monotonic() > deadline:
            return events
        time.sleep(1)


def read_artifacts(flow_run_id: str) -> list[dict]:
    """Artifacts of one flow run, through the REST API (the 3.8.8 client sends nulls it rejects)."""
    import httpx
    from prefect.settings import PREFECT_API_URL

    body = {"flow_runs": {"id": {"any_": [flow_run_id]}}}
    response = httpx.post(f"{PREFECT_API_URL.value()}/artifacts/filter", json=body, timeout=30)
    response.raise_for_status()
    return response.json()


def test_quiet_batch_is_logged_against_the_stored_reference(champion, synth, tmp_path):
    from flows.drift import drift_check_flow
    from registry.snapshots import load_snapshot

    config = load_config(champion)
    client = MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.tracking_uri)
    snapshot = load_snapshot(client, config.name, "1")
    train_rows = int(client.get_model_version(config.name, "1").tags["train_rows"])
    assert snapshot.features == ["x1", "x2", "colour"]
    assert list(snapshot.frame.columns) == ["x1", "x2", "colour", "label"]
    assert len(snapshot.frame) == min(config.drift.sample_rows, train_rows)

    batch = write_batch(tmp_path, quiet_month(synth), "m04.csv")
    result = drift_check_flow(config_path=str(champion), batch_path=str(batch))

    assert result["status"] == "ok", result
    assert result["signals"] == [] and result["events"] == []
    assert result["champion_version"] == "1"
    assert result["decay"]["current"] is not None and not result["decay"]["degraded"]
    run = client.get_run(result["mlflow_run_id"])
    assert run.data.tags["retrain.champion_version"] == "1"
    assert run.data.tags["retrain.signals"] == "none"
    assert client.get_experiment(run.info.experiment_id).name == "retrain/synth/monitoring"
    assert "drift_share" in run.data.metrics
    assert {a.path for a in client.list_artifacts(run.info.run_id)} >= {"drift_report.html", "drift_check.json"}
    assert client.get_model_version(config.name, "1").tags["retrain.last_drift_check"] == run.info.run_id


def test_shifted_batch_emits_drift_and_decay_events(champion, synth, tmp_path):
    from flows.drift import drift_check_flow

    batch = write_batch(tmp_path, shifted_month(synth), "m04.csv")
    result = drift_check_flow(config_path=str(champion), batch_path=str(batch))

    assert result["status"] == "signal", result
    assert result["signals"] == ["drift", "performance"]
    assert result["events"] == ["retrain.drift.detected", "retrain.performance.degraded"]
    assert result["drift"]["drifted"] and result["decay"]["degraded"]
    events = read_model_events("synth", result["mlflow_run_id"], wanted=2)
    assert sorted(e.event for e in events) == ["retrain.drift.detected", "retrain.performance.degraded"]
    for event in events:
        assert event.payload["version"] == "1" and event.payload["batch"] == "m04.csv"
        assert event.payload["starts_retrain"] is True
        assert event.payload["figures"]["drift_share"] == result["drift"]["share"]
    run = MlflowClient(
        tracking_uri=load_config(champion).tracking_uri, registry_uri=load_config(champion).tracking_uri
    ).get_run(result["mlflow_run_id"])
    artifacts = read_artifacts(run.data.tags["retrain.flow_run_id"])
    assert {a["key"] for a in artifacts} == {"synth-drift-check", "synth-drift-columns"}
    assert any("m04.csv" in str(a["data"]) for a in artifacts)


def test_drift_cli_exit_codes_follow_the_policy(champion, synth, tmp_path):
    from retrain.cli import app

    runner = CliRunner()
    quiet = write_batch(tmp_path, quiet_month(synth), "quiet.csv")
    shifted = write_batch(tmp_path, shifted_month(synth), "shifted.csv")
    broken = write_batch(tmp_path, quiet_month(synth).drop(columns=["x2"]), "broken.csv")

    def check(batch, config=champion):
        done = runner.invoke(app, ["drift", str(config), str(batch), "--json"])
        return done.exit_code, json.loads(done.stdout)

    code, data = check(quiet)
    assert code == Exit.OK and data["signals"] == []
    code, data = check(shifted)
    assert code == Exit.DRIFT and data["signals"] == ["drift", "performance"]
    assert data["drift"]["drifted_columns"] and data["decay"]["drop"] > data["decay"]["tolerance"]
    code, data = check(broken)
    assert code == Exit.DATA_INVALID and data["status"] == "data_invalid"
    assert broken.exists()  # a drift check reports a bad batch, it does not move it
    assert [c["column"] for c in data["drift"]["columns"]] == ["x1", "colour"]  # the columns that passed
    assert data["drift"]["status"] == "no_drift" and any("left out: x2" in n for n in data["notes"])
    broken_shift = write_batch(tmp_path, shifted_month(synth).drop(columns=["x2"]), "broken-shift.csv")
    code, data = check(broken_shift)
    assert code == Exit.DATA_INVALID and data["signals"] == []  # a broken batch never starts a retrain
    assert set(data["drift"]["drifted_columns"]) == {"x1", "colour"}

    only_decay = synth.write_config(tmp_path, drift={"triggers": ["performance"], **COARSE})
    code, data = check(shifted, only_decay)
    assert code == Exit.DRIFT and data["signals"] == ["performance"] and data["drift"]["drifted"]
    watch_only = synth.write_config(tmp_path, drift={"triggers": [], **COARSE})
    code, data = check(shifted, watch_only)
    assert code == Exit.OK and data["signals"] == [] and data["decay"]["degraded"]


def test_a_broken_batch_is_named_in_an_event_with_the_drift_of_its_sound_columns(champion, synth, tmp_path):
    from prefect import get_client
    from prefect.events.filters import EventFilter, EventNameFilter

    from flows.drift import drift_check_flow

    broken = shifted_month(synth)
    broken["x2"] = broken["x2"] * 1000  # a unit slip: quarantined by the proposed suite
    batch = write_batch(tmp_path, broken, "m04-broken.csv")
    result = drift_check_flow(config_path=str(champion), batch_path=str(batch))

    assert result["status"] == "data_invalid" and result["signals"] == []
    assert result["events"] == ["retrain.batch.invalid"]
    assert [f["column"] for f in result["validation"]["failures"]] == ["x2"]
    assert set(result["drift"]["drifted_columns"]) == {"x1", "colour"}
    query = EventFilter(event=EventNameFilter(name=["retrain.batch.invalid"]))
    deadline = time.monotonic() + 60
    events: list = []
    while not events and time.monotonic() < deadline:
        with get_client(sync_client=True) as client:
            events = [e for e in client.read_events(filter=query, limit=50).events if e.payload["batch"] == batch.name]
        time.sleep(0 if events else 1)
    [event] = events
    assert event.resource.id == "retrain.model.synth" and event.payload["version"] == "1"
    assert event.payload["failures"] == [{"expectation": "expect_column_values_to_be_between", "column": "x2"}]
    assert set(event.payload["drifted_columns"]) == {"x1", "colour"}
    assert batch.exists()  # reported, not moved


def test_a_shifted_batch_with_only_warnings_gets_its_verdict_and_the_warnings(champion, synth, tmp_path):
    from retrain.cli import app

    moved = quiet_month(synth)
    moved["x2"] = moved["x2"] + 25  # beyond the reference's range, plausible: a warning, not an error
    batch = write_batch(tmp_path, moved, "moved.csv")
    done = CliRunner().invoke(app, ["drift", str(champion), str(batch)])

    assert done.exit_code == Exit.DRIFT, done.output
    assert "shift reported by validation: x2: expect_column_values_to_be_between" in done.output


def test_drift_cli_exits_14_on_a_batch_too_small_for_a_verdict(champion, synth, tmp_path):
    from retrain.cli import app

    tiny = write_batch(tmp_path, quiet_month(synth).head(20), "tiny.csv")
    only_drift = synth.write_config(tmp_path, drift={"triggers": ["drift"], "min_rows": 50})
    done = CliRunner().invoke(app, ["drift", str(only_drift), str(tiny), "--json"])
    data = json.loads(done.stdout)

    assert done.exit_code == Exit.INSUFFICIENT_DATA == 14, done.stdout
    assert data["status"] == "insufficient_data" and data["signals"] == []
    assert data["drift"]["status"] == "insufficient_data" and not data["drift"]["drifted"]
    assert {c["status"] for c in data["drift"]["columns"]} == {"insufficient_data"}


def test_drift_cli_without_champion_names_the_problem(workspace, synth, tmp_path):
    from retrain.cli import app

    batch = tmp_path / "m04.csv"
    quiet_month(synth).to_csv(batch, index=False)
    done = CliRunner().invoke(app, ["drift", str(workspace), str(batch), "--json"])

    assert done.exit_code == Exit.UNKNOWN_MODEL
    assert "no champion" in json.loads(done.stdout)["error"]["message"]
