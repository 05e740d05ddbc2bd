"""``retrain rollback / promote / history``: output, JSON for CI and distinct exit codes.

The commands are mounted on a bare Typer app, exactly as ``retrain.cli`` mounts them, over
a real MLflow store and ledger in one temporary home (each test uses its own model).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer
import yaml
from typer.testing import CliRunner

from base.exitcodes import Exit
from retrain.commands import registry_ops


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    registry_ops.register(app)
    return app


@pytest.fixture
def cli(app, model_store, monkeypatch):
    """Invoke a command against the home; returns the result and parsed JSON when asked."""
    for var in ("RETRAIN_HOME", "RETRAIN_TRACKING_URI", "RETRAIN_LEDGER_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("RETRAIN_ACTOR", "ci-bot")

    def invoke(*args: str):
        result = CliRunner().invoke(app, [*args, "--home", str(model_store.home)])
        data = json.loads(result.stdout) if "--json" in args and result.stdout.strip() else None
        return result, data

    return invoke


def test_promote_then_rollback_as_ci_would(cli, model_store):
    name = model_store.add_model(3)
    for version in ("1", "2", "3"):
        result, data = cli("promote", name, version, "--reason", f"release {version}", "--json")
        assert result.exit_code == 0, result.output
    result, data = cli("rollback", name, "--reason", "errors up", "--expect-current", "3", "--json")
    assert result.exit_code == Exit.OK, result.output
    assert (data["from_version"], data["to_version"], data["actor"]) == ("3", "2", "ci-bot")
    assert model_store.client.get_registered_model(name).aliases["champion"] == 2
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
def test_errors_have_distinct_exit_codes(cli, model_store, args, code, words):
    name = model_store.add_model(2)
    assert cli("promote", name, "1", "--reason", "first")[0].exit_code == 0
    args = [name if a == "NAME" else a for a in args]
    result, data = cli(*args, "--json")
    assert result.exit_code == code
    assert data["exit_code"] == code and words in data["error"]["message"]
    human, _ = cli(*args)
    assert human.exit_code == code and words in human.output
    assert model_store.client.get_registered_model(name).aliases["champion"] == 1


def test_promote_needs_a_reason(cli, model_store):
    name = model_store.add_model(1)
    result, _ = cli("promote", name, "1")
    assert result.exit_code == Exit.USAGE
    assert "champion" not in model_store.client.get_registered_model(name).aliases


def test_history_lists_every_entry_with_metrics(cli, model_store):
    name = model_store.add_model(2)
    cli("promote", name, "1", "--reason", "first")
    cli("promote", name, "2", "--reason", "second")
    cli("rollback", name, "--reason", "too slow")
    result, data = cli("history", name, "--json")
    assert result.exit_code == 0
    assert [(e["action"], e["from_version"], e["to_version"]) for e in data["entries"]] == [
        ("manual_promote", None, "1"),
        ("manual_promote", "1", "2"),
        ("rollback", "2", "1"),
    ]
    assert data["champion"] == "1" and data["entries"][2]["reason"] == "too slow"
    table, _ = cli("history", name)
    assert "too slow" in table.stdout and "rollback" in table.stdout and "ci-bot" in table.stdout


def test_history_records_an_alias_moved_outside_the_ledger_first(cli, model_store):
    name = model_store.add_model(2)
    cli("promote", name, "1", "--reason", "first")
    model_store.client.set_registered_model_alias(name, "champion", "2")
    human, _ = cli("history", name)
    assert human.exit_code == 0 and "moved outside Retrain, v1 → v2" in " ".join(human.output.split())
    _, data = cli("history", name, "--json")
    assert (data["champion"], data["ledger_champion"]) == ("2", "2")  # the ledger knows now
    last = data["entries"][-1]
    assert (last["from_version"], last["to_version"], last["status"]) == ("1", "2", "applied")
    assert "outside Retrain" in last["actor"]


def test_history_of_a_model_never_promoted_is_empty_not_an_error(cli, model_store):
    result, data = cli("history", model_store.add_model(1), "--json")
    assert result.exit_code == 0 and data["entries"] == [] and data["champion"] is None


def test_commands_reconcile_a_pending_entry_first_and_say_so(cli, model_store):
    from registry.ledger import open_ledger

    name = model_store.add_model(2)
    cli("promote", name, "1", "--reason", "first")
    ledger = open_ledger(f"sqlite:///{model_store.home / 'ledger.db'}")
    ledger.write_intent(name, "1", "2", "rollback", "crashed", "someone", None, None)
    result, _ = cli("history", name)
    assert result.exit_code == 0 and "never took effect" in result.output
    assert [e.status for e in ledger.entries(name)] == ["applied", "failed"]


def test_config_file_supplies_the_stores(cli, model_store, tmp_path, app):
    name = model_store.add_model(2)
    config = tmp_path / "model.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "name": name,
                "task": "binary",
                "validation": {"suite": "s.json"},
                "data": {"path": "b/*.csv", "timestamp_column": "ts", "target_column": "y"},
                "state": {"home": str(model_store.home)},
            }
        )
    )
    result = CliRunner().invoke(app, ["promote", name, "2", "--reason", "cfg", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["to_version"] == "2"
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    assert CliRunner().invoke(app, ["history", name, "--config", str(bad)]).exit_code == Exit.USAGE


def test_importing_the_commands_pays_for_no_heavy_library(child_env):
    code = (
        "import sys, retrain.commands.registry_ops\n"
        "print(','.join(m for m in ('mlflow', 'prefect', 'great_expectations', 'evidently', 'sklearn')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=child_env())
    assert out.stdout.strip() == ""
