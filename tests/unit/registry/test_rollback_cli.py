"""``retrain rollback / promote / history``: output, JSON for CI and distinct exit codes.

The commands are mounted on a bare Typer app, exactly as ``retrain.cli`` mounts them, over
a real MLflow store and ledger in one temporary home (each test uses its own model).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest
import typer
import yaml
from typer.testing import CliRunner

from retrain.commands import registry_ops
from retrain.exitcodes import Exit

REPO = Path(__file__).resolve().parents[3]
X = np.zeros((3, 1))


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    registry_ops.register(app)
    return app


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A Retrain home with its MLflow store, and a helper registering a model."""
    from mlflow import MlflowClient

    root = tmp_path_factory.mktemp("cli-home")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)

    def add_model(versions: int) -> str:
        import mlflow
        from sklearn.dummy import DummyRegressor

        name = f"cli-{uuid.uuid4().hex[:8]}"
        client.create_registered_model(name)
        for k in range(1, versions + 1):
            path = root / "models" / name / f"v{k}"
            model = DummyRegressor(strategy="constant", constant=float(k)).fit(X, np.zeros(3))
            mlflow.sklearn.save_model(model, str(path), pip_requirements=["scikit-learn"])
            client.create_model_version(name, str(path))
        return name

    return root, client, add_model


@pytest.fixture
def cli(app, home, monkeypatch):
    """Invoke a command against the home; returns the result and parsed JSON when asked."""
    for var in ("RETRAIN_HOME", "RETRAIN_TRACKING_URI", "RETRAIN_LEDGER_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("RETRAIN_ACTOR", "ci-bot")

    def invoke(*args: str):
        result = CliRunner().invoke(app, [*args, "--home", str(home[0])])
        data = json.loads(result.stdout) if "--json" in args and result.stdout.strip() else None
        return result, data

    return invoke


def test_promote_then_rollback_as_ci_would(cli, home):
    name = home[2](3)
    for version in ("1", "2", "3"):
        result, data = cli("promote", name, version, "--reason", f"release {version}", "--json")
        assert result.exit_code == 0, result.output
    result, data = cli("rollback", name, "--reason", "errors up", "--expect-current", "3", "--json")
    assert result.exit_code == Exit.OK, result.output
    assert (data["from_version"], data["to_version"], data["actor"]) == ("3", "2", "ci-bot")
    assert home[1].get_registered_model(name).aliases["champion"] == 2
    human, _ = cli("rollback", name)
    assert human.exit_code == 0 and "rolled back" in human.stdout and "-> 1" in human.stdout


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["rollback", "NAME"], Exit.NOTHING_TO_ROLL_BACK, "first champion"),
        (["rollback", "NAME", "--to", "7"], Exit.TARGET_UNAVAILABLE, "does not exist"),
        (["rollback", "NAME", "--expect-current", "2"], Exit.EXPECTATION_MISMATCH, "not 2"),
        (["rollback", "no-such-model"], Exit.UNKNOWN_MODEL, "no registered model"),
        (["promote", "no-such-model", "1", "--reason", "x"], Exit.UNKNOWN_MODEL, "no registered model"),
        (["history", "no-such-model"], Exit.UNKNOWN_MODEL, "no registered model"),
    ],
)
def test_errors_have_distinct_exit_codes(cli, home, args, code, words):
    name = home[2](2)
    assert cli("promote", name, "1", "--reason", "first")[0].exit_code == 0
    args = [name if a == "NAME" else a for a in args]
    result, data = cli(*args, "--json")
    assert result.exit_code == code
    assert data["exit_code"] == code and words in data["error"]
    human, _ = cli(*args)
    assert human.exit_code == code and words in human.output
    assert home[1].get_registered_model(name).aliases["champion"] == 1


def test_promote_needs_a_reason(cli, home):
    name = home[2](1)
    result, _ = cli("promote", name, "1")
    assert result.exit_code == Exit.USAGE
    assert "champion" not in home[1].get_registered_model(name).aliases


def test_history_lists_every_entry_with_metrics(cli, home):
    name = home[2](2)
    cli("promote", name, "1", "--reason", "first")
    cli("promote", name, "2", "--reason", "second")
    cli("rollback", name, "--reason", "too slow")
    result, data = cli("history", name, "--json")
    assert result.exit_code == 0
    assert [(e["action"], e["from_version"], e["to_version"]) for e in data["entries"]] == [
        ("manual_promote", None, "1"), ("manual_promote", "1", "2"), ("rollback", "2", "1")]
    assert data["champion"] == "1" and data["entries"][2]["reason"] == "too slow"
    table, _ = cli("history", name)
    assert "too slow" in table.stdout and "rollback" in table.stdout and "ci-bot" in table.stdout


def test_history_flags_an_alias_moved_outside_the_ledger(cli, home):
    name = home[2](2)
    cli("promote", name, "1", "--reason", "first")
    home[1].set_registered_model_alias(name, "champion", "2")
    _, data = cli("history", name, "--json")
    assert (data["champion"], data["ledger_champion"]) == ("2", "1")
    human, _ = cli("history", name)
    assert human.exit_code == 0 and "moved outside" in " ".join(human.output.split())


def test_history_of_a_model_never_promoted_is_empty_not_an_error(cli, home):
    result, data = cli("history", home[2](1), "--json")
    assert result.exit_code == 0 and data["entries"] == [] and data["champion"] is None


def test_commands_reconcile_a_pending_entry_first_and_say_so(cli, home):
    from registry.ledger import open_ledger

    name = home[2](2)
    cli("promote", name, "1", "--reason", "first")
    ledger = open_ledger(f"sqlite:///{home[0] / 'ledger.db'}")
    ledger.write_intent(name, "1", "2", "rollback", "crashed", "someone", None, None)
    result, _ = cli("history", name)
    assert result.exit_code == 0 and "never took effect" in result.output
    assert [e.status for e in ledger.entries(name)] == ["applied", "failed"]


def test_config_file_supplies_the_stores(cli, home, tmp_path, app):
    name = home[2](2)
    config = tmp_path / "model.yaml"
    config.write_text(yaml.safe_dump({
        "name": name, "task": "binary", "validation": {"suite": "s.json"},
        "data": {"path": "b/*.csv", "timestamp_column": "ts", "target_column": "y"},
        "state": {"home": str(home[0])},
    }))
    result = CliRunner().invoke(app, ["promote", name, "2", "--reason", "cfg", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["to_version"] == "2"
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    assert CliRunner().invoke(app, ["history", name, "--config", str(bad)]).exit_code == Exit.USAGE


def test_importing_the_commands_pays_for_no_heavy_library():
    code = ("import sys, retrain.commands.registry_ops\n"
            "print(','.join(m for m in ('mlflow', 'prefect', 'great_expectations', 'evidently', 'sklearn')"
            " if m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == ""
