"""A person releases a quarantined batch in one step, from the CLI or the Prefect UI's flow,
and the next run trains on it; the release is in the model's history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from base.exitcodes import Exit
from base.settings import load_config

pytestmark = pytest.mark.integration


def cli(*args: str):
    from retrain.cli import app

    done = CliRunner().invoke(app, [*args, "--json"])
    return done.exit_code, json.loads(done.stdout) if done.stdout.strip() else {}, done


@pytest.fixture
def quarantined(workspace, synth, monkeypatch):
    """v1 promoted, then a month whose ``colour`` column arrives garbled is quarantined."""
    monkeypatch.setenv("RETRAIN_ACTOR", "ana@example")
    assert synth.run_flow(workspace)["status"] == "promoted"
    month = synth.make_month(4)
    month["colour"] = month["colour"].map({"red": "rouge", "green": "vert", "blue": "bleu"})  # relabelled upstream
    month.to_csv(workspace.parent / "batches" / "m04.csv", index=False)
    outcome = synth.run_flow(workspace)
    assert outcome["status"] == "data_invalid", outcome
    assert "retrain quarantine release synth m04.csv" in outcome["message"]
    return workspace


def batch_files(config, version: str) -> str:
    client = MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.tracking_uri)
    return client.get_model_version(config.name, version).tags["batch_files"]


def test_list_and_show_name_the_batch_and_what_failed(quarantined):
    config = load_config(quarantined)
    code, listed, _ = cli("quarantine", "list", "synth", "--config", str(quarantined))
    assert code == 0 and [b["batch"] for b in listed["batches"]] == ["m04.csv"]
    assert "expect_column_values_to_be_in_set(colour)" in listed["batches"][0]["summary"]
    code, shown, _ = cli("quarantine", "show", "synth", "m04.csv", "--home", str(config.home))
    assert code == 0 and shown["original_path"] == str(quarantined.parent / "batches" / "m04.csv")
    [failure] = shown["report"]["failures"]
    assert failure["column"] == "colour" and failure["unexpected_count"] == 300
    from retrain.cli import app

    human = CliRunner().invoke(app, ["quarantine", "show", "synth", "m04.csv", "--config", str(quarantined)])
    assert "came from" in human.output and "colour" in human.output


def test_a_release_without_widening_is_trained_on_and_recorded(quarantined, synth):
    config = load_config(quarantined)
    code, released, _ = cli(
        "quarantine",
        "release",
        "synth",
        "m04.csv",
        "--reason",
        "colours renamed upstream",
        "--config",
        str(quarantined),
    )
    assert code == 0, released
    assert released["restored_to"] == str(quarantined.parent / "batches" / "m04.csv")
    assert released["widening"] is None and released["release"]["actor"] == "ana@example"
    assert (quarantined.parent / "batches" / "m04.csv").is_file()
    assert list(Path(config.quarantine_dir).glob("*.csv")) == []

    outcome = synth.run_flow(quarantined)

    assert outcome["status"] in ("promoted", "rejected"), outcome
    assert "m04.csv" in batch_files(config, outcome["version"])
    assert outcome["quarantined"] == [] and list(Path(config.quarantine_dir).glob("*.csv")) == []
    warned = next(v for v in outcome["validation"] if v["batch"] == "m04.csv")
    assert warned["success"] and any("colours renamed upstream" in w["details"] for w in warned["warnings"])
    code, history, _ = cli("history", "synth", "--config", str(quarantined))
    [record] = history["releases"]
    assert record["batch"] == "m04.csv" and record["reason"] == "colours renamed upstream"
    assert record["actor"] == "ana@example" and not record["widened"]
    assert record["failures"] == ["expect_column_values_to_be_in_set(colour)"]
    from retrain.cli import app

    human = CliRunner().invoke(app, ["history", "synth", "--config", str(quarantined)])
    assert "released from quarantine" in human.output and "colours renamed upstream" in human.output


def test_a_release_with_widening_writes_the_next_suite_version(quarantined, synth):
    config = load_config(quarantined)
    code, released, _ = cli(
        "quarantine",
        "release",
        "synth",
        "m04.csv",
        "--reason",
        "new colour names",
        "--widen",
        "--config",
        str(quarantined),
    )
    assert code == 0, released
    widening = released["widening"]
    assert widening["version"] == 2 and widening["previous"] == "synth.suite.v1.json"
    assert widening["changes"][0] == "colour: admits 'bleu', 'rouge', 'vert'"  # then its warn companion, if any
    assert set(widening["changes"]) == {"colour: admits 'bleu', 'rouge', 'vert'"} and not widening["not_widened"]
    suite = json.loads(config.suite_path.read_text())
    assert suite["meta"]["versions"][-1]["by"] == "ana@example"
    assert (config.suite_path.parent / "synth.suite.v1.json").is_file()

    outcome = synth.run_flow(quarantined)

    assert outcome["status"] in ("promoted", "rejected") and "m04.csv" in batch_files(config, outcome["version"])
    code, history, _ = cli("history", "synth", "--config", str(quarantined))
    assert history["releases"][0]["widened"] and history["releases"][0]["suite_version"] == 2


def test_release_mistakes_are_refused_and_change_nothing(quarantined):
    config = load_config(quarantined)
    code, data, done = cli("quarantine", "release", "synth", "m05.csv", "--reason", "x", "--config", str(quarantined))
    assert code == Exit.USAGE and "m04.csv" in data["error"]["message"] and "Traceback" not in done.output
    code, data, _ = cli("quarantine", "release", "synth", "m04.csv", "--reason", " ", "--config", str(quarantined))
    assert code == Exit.USAGE and "reason" in data["error"]["message"]
    code, data, _ = cli("quarantine", "release", "other", "m04.csv", "--reason", "x", "--config", str(quarantined))
    assert code == Exit.USAGE and "not 'other'" in data["error"]["message"]
    (quarantined.parent / "batches" / "m04.csv").write_text("someone,else\n1,2\n")
    code, data, _ = cli("quarantine", "release", "synth", "m04.csv", "--reason", "x", "--config", str(quarantined))
    assert code == Exit.USAGE and "exists already" in data["error"]["message"]
    assert [p.name for p in Path(config.quarantine_dir).glob("*.csv")] == ["m04.csv"]
    assert cli("history", "synth", "--config", str(quarantined))[1]["releases"] == []


def test_quarantine_usage_errors_name_what_was_wrong(quarantined):
    from retrain.cli import app

    config = load_config(quarantined)
    done = CliRunner().invoke(app, ["quarantine", "release", "synth", "m04.csv", "--config", str(quarantined)])
    assert done.exit_code == Exit.USAGE and "--reason" in done.output and "Traceback" not in done.output
    code, data, done = cli("quarantine", "list", "synht", "--home", str(config.home))
    assert code == Exit.UNKNOWN_MODEL and "synth" in data["error"]["message"] and "Traceback" not in done.output
    code, data, _ = cli("quarantine", "show", "synth", "m05.csv", "--home", str(config.home))
    assert code == Exit.USAGE and "'m05.csv'" in data["error"]["message"] and "m04.csv" in data["error"]["message"]
    human = CliRunner().invoke(app, ["quarantine", "show", "synht", "m04.csv", "--home", str(config.home)])
    assert human.exit_code == Exit.UNKNOWN_MODEL and "no model named 'synht'" in human.output


def test_the_ui_flow_releases_a_batch(quarantined, synth):
    from flows.ops import quarantine_release_flow

    state = quarantine_release_flow(
        model="synth",
        batch="m04.csv",
        reason="checked with the data team",
        widen=True,
        config_path=str(quarantined),
        return_state=True,
    )
    result = state.result()

    assert result["widening"]["changes"] and "via prefect flow run" in result["release"]["actor"]
    [artifact] = read_artifacts(str(state.state_details.flow_run_id))
    assert artifact["key"] == "synth-quarantine-release" and "m04.csv" in artifact["data"]
    assert "checked with the data team" in artifact["data"]
    assert synth.run_flow(quarantined)["status"] in ("promoted", "rejected")


def read_artifacts(flow_run_id: str) -> list[dict]:
    """Artifacts of one flow run, through the REST API."""
    import httpx
    from prefect.settings import PREFECT_API_URL

    body = {"flow_runs": {"id": {"any_": [flow_run_id]}}}
    response = httpx.post(f"{PREFECT_API_URL.value()}/artifacts/filter", json=body, timeout=30)
    response.raise_for_status()
    return response.json()
