"""Crash consistency: kill ``retrain rollback`` at a named point, then the next command heals.

``RETRAIN_FAILPOINT`` makes the real CLI process SIGKILL itself right after the intent is
committed (alias not moved) or right after the alias moved (entry not yet marked). The
next command (the same Typer commands, run in-process) must reconcile the pending entry,
say what it decided, and leave ``champion`` on a version that loads. Runs with the ledger
on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from registry.champion import read_champion
from registry.ledger import Stores, open_ledger
from registry.promotion import move_champion
from retrain.commands import registry_ops

REPO = Path(__file__).resolve().parents[2]
X = np.zeros((2, 1))


@pytest.fixture
def killed_cli(model_store, ledger_url, child_env):
    """The real ``retrain`` CLI in a fresh process that SIGKILLs itself at ``failpoint``."""
    env = child_env(
        RETRAIN_HOME=str(model_store.home),
        RETRAIN_TRACKING_URI=model_store.uri,
        RETRAIN_LEDGER_URL=ledger_url,
        RETRAIN_ACTOR="pager",
    )

    def run(*args: str, failpoint: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "retrain.cli", *args],
            capture_output=True,
            text=True,
            env={**env, "RETRAIN_FAILPOINT": failpoint},
            timeout=300,
            cwd=REPO,
        )

    return run


@pytest.fixture
def champion_prediction(model_store, monkeypatch):
    """Load ``models:/NAME@champion`` as a serving process would; global URIs restored after."""
    import mlflow

    for var in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        monkeypatch.setenv(var, model_store.uri)  # recorded, so teardown restores the originals
    mlflow.set_tracking_uri(model_store.uri)
    mlflow.set_registry_uri(model_store.uri)
    yield lambda name: float(mlflow.pyfunc.load_model(f"models:/{name}@champion").predict(X)[0])
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)


@pytest.fixture
def next_command(model_store, ledger_url, monkeypatch):
    """The next ``retrain`` command, run in this process through the same Typer commands."""
    app = typer.Typer()
    registry_ops.register(app)
    for var, value in (
        ("RETRAIN_HOME", str(model_store.home)),
        ("RETRAIN_TRACKING_URI", model_store.uri),
        ("RETRAIN_LEDGER_URL", ledger_url),
        ("RETRAIN_ACTOR", "pager"),
    ):
        monkeypatch.setenv(var, value)
    monkeypatch.delenv("RETRAIN_FAILPOINT", raising=False)

    def run(*args: str) -> dict:
        result = CliRunner().invoke(app, [*args, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    return run


@pytest.fixture
def champion_3(model_store, ledger_url):
    """A model whose versions 1, 2, 3 were promoted in turn through the ledger."""
    name = model_store.add_model(3)
    stores = Stores(model_store.uri, ledger_url)
    for version in ("1", "2", "3"):
        move_champion(stores, model_store.client, name, version, "promote", "gate", actor="gate")
    return name, stores


def test_killed_after_intent_leaves_champion_and_is_marked_failed(
    model_store, ledger_url, champion_3, champion_prediction, next_command, killed_cli
):
    name, _stores = champion_3
    killed = killed_cli("rollback", name, "--reason", "bad", failpoint="after_intent")
    assert killed.returncode == -9, killed.stderr
    last = open_ledger(ledger_url).entries(name)[-1]
    assert (last.status, last.from_version, last.to_version) == ("pending", "3", "2")
    assert read_champion(model_store.client, name) == "3"

    [note] = next_command("history", name)["reconciled"]
    assert (note["entry_id"], note["outcome"]) == (last.id, "failed")
    assert open_ledger(ledger_url).entries(name)[-1].status == "failed"
    assert champion_prediction(name) == 3.0

    assert next_command("rollback", name)["to_version"] == "2"  # one step back, not two


def test_killed_after_alias_is_marked_applied_by_the_next_command(
    model_store, ledger_url, champion_3, champion_prediction, next_command, killed_cli
):
    name, _stores = champion_3
    killed = killed_cli("rollback", name, failpoint="after_alias")
    assert killed.returncode == -9, killed.stderr
    last = open_ledger(ledger_url).entries(name)[-1]
    assert (last.status, last.to_version) == ("pending", "2")
    assert read_champion(model_store.client, name) == "2"
    assert champion_prediction(name) == 2.0

    data = next_command("rollback", name)
    assert [(n["entry_id"], n["outcome"]) for n in data["reconciled"]] == [(last.id, "applied")]
    assert (data["from_version"], data["to_version"]) == ("2", "1")
    statuses = [e.status for e in open_ledger(ledger_url).entries(name)]
    assert statuses == ["applied"] * 5
    assert model_store.client.get_model_version(name, "2").tags["retrain.rolled_back_from"] == "3"
    assert champion_prediction(name) == 1.0
