"""Bad input gets a clear error and loses nothing: no version, champion unmoved, file kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from base.exitcodes import Exit
from base.settings import load_config


def good_month(synth):
    return synth.make_month(4)


def missing_column(synth, path: Path):
    good_month(synth).drop(columns=["x2"]).to_csv(path, index=False)


def wrong_dtype(synth, path: Path):
    df = good_month(synth)
    df["x1"] = "n/a"
    df.to_csv(path, index=False)


def nulls_beyond_suite(synth, path: Path):
    df = good_month(synth)
    df.loc[df.index[::2], "x2"] = None
    df.to_csv(path, index=False)


def out_of_range(synth, path: Path):
    df = good_month(synth)
    df.loc[df.index[:10], "x2"] = 1000.0
    df.to_csv(path, index=False)


def garbled_category(synth, path: Path):
    df = good_month(synth)
    df.loc[df.index[:200], "colour"] = (
        "\u00c3\u00a9"  # two thirds of the rows mojibake: a new colour is a shift, this is not
    )
    df.to_csv(path, index=False)


def empty_file(synth, path: Path):
    path.write_bytes(b"")


def truncated_csv(synth, path: Path):
    text = good_month(synth).to_csv(index=False)
    path.write_text(text[: len(text) // 2].rsplit(",", 1)[0])


def corrupt_bytes(synth, path: Path):
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)


CASES = {
    "missing column": (missing_column, "x2"),
    "wrong dtype": (wrong_dtype, "x1"),
    "nulls beyond the suite": (nulls_beyond_suite, "x2"),
    "out-of-range values": (out_of_range, "x2"),
    "garbled category": (garbled_category, "colour"),
    "empty file": (empty_file, "empty"),
    "truncated csv": (truncated_csv, "m04.csv"),
    "corrupt csv": (corrupt_bytes, "m04.csv"),
}


def registry_state(config):
    client = MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.tracking_uri)
    versions = sorted(int(v.version) for v in client.search_model_versions(f"name='{config.name}'"))
    return versions, str(client.get_registered_model(config.name).aliases.get("champion"))


@pytest.mark.integration
@pytest.mark.parametrize("case", list(CASES))
def test_bad_batch_is_quarantined_and_changes_nothing(case, workspace, synth, tmp_path):
    assert synth.run_flow(workspace)["status"] == "promoted"
    config = load_config(workspace)
    before = registry_state(config)
    write_bad, named = CASES[case]
    bad = tmp_path / "batches" / "m04.csv"
    write_bad(synth, bad)

    outcome = synth.run_flow(workspace)

    assert outcome["status"] == "data_invalid", outcome
    assert registry_state(config) == before
    assert not bad.exists(), "the bad batch must leave the batch folder"
    [moved] = [Path(p) for p in outcome["quarantined"]]
    assert moved.is_file(), "the bad batch must be kept in quarantine"
    report = json.loads(Path(str(moved) + ".report.json").read_text())
    assert named.lower() in json.dumps(report).lower(), report
    # the champion keeps serving: a later good batch trains again normally
    good_month(synth).to_csv(bad, index=False)
    assert synth.run_flow(workspace)["status"] in {"promoted", "rejected"}


@pytest.mark.integration
def test_glob_matching_nothing_is_a_clear_error_via_cli(tmp_path, synth, monkeypatch, capfd):
    from retrain.cli import app

    (tmp_path / "batches").mkdir()
    config_path = synth.write_config(tmp_path, data={"path": "nowhere/*.csv"})
    (tmp_path / "synth.suite.json").write_text(
        '{"name": "synth", "expectations": [{"type": "expect_column_to_exist", "kwargs": {"column": "ts"}}]}'
    )
    result = CliRunner().invoke(app, ["run", str(config_path), "--json"])

    assert result.exit_code == Exit.DATA_INVALID, result.output
    payload = json.loads(result.stdout)
    assert "nowhere/*.csv" in payload["message"]
    printed = capfd.readouterr()
    assert "Traceback" not in printed.err + printed.out + result.output, "an expected failure printed a traceback"
    client = MlflowClient(
        tracking_uri=load_config(config_path).tracking_uri, registry_uri=load_config(config_path).tracking_uri
    )
    assert client.search_registered_models() == []


@pytest.mark.integration
def test_validate_command_reports_without_moving(workspace, synth, tmp_path):
    from retrain.cli import app

    bad = tmp_path / "incoming.csv"
    garbled_category(synth, bad)
    result = CliRunner().invoke(app, ["validate", str(workspace), str(bad), "--json"])

    assert result.exit_code == Exit.DATA_INVALID, result.output
    assert "colour" in result.stdout
    assert bad.exists()
