"""Crash consistency: kill ``retrain rollback`` at a named point, then the next command heals.

``RETRAIN_FAILPOINT`` makes the real CLI process SIGKILL itself right after the intent is
committed (alias not moved) or right after the alias moved (entry not yet marked). The
next command (the same Typer commands, run in-process) must reconcile the pending entry,
say what it decided, and leave ``champion`` on a version that loads. Runs with the ledger
on SQLite and on PostgreSQL.
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
import sqlalchemy as sa
import typer
from typer.testing import CliRunner

from registry.ledger import Stores, open_ledger
from registry.promotion import move_champion, read_champion
from retrain.commands import registry_ops

REPO = Path(__file__).resolve().parents[2]
X = np.zeros((2, 1))


def _pg_base_url() -> str:
    errors = []
    for user in ("postgres", "root"):
        url = f"postgresql+psycopg://{user}@127.0.0.1:5432/test"
        engine = sa.create_engine(url, connect_args={"connect_timeout": 5})
        try:
            with engine.connect():
                return url
        except sa.exc.OperationalError as exc:
            errors.append(f"{user}: {exc.orig}")
        finally:
            engine.dispose()
    pytest.fail("PostgreSQL at 127.0.0.1:5432 (database 'test', trust auth) is required: " + "; ".join(errors))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One MLflow home for the module, and a helper adding a model whose version k predicts k."""
    from mlflow import MlflowClient

    home = tmp_path_factory.mktemp("crash-home")
    uri = f"sqlite:///{home / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)

    def add_model(versions: int) -> str:
        import mlflow
        from sklearn.dummy import DummyRegressor

        name = f"crash-{uuid.uuid4().hex[:8]}"
        client.create_registered_model(name)
        for k in range(1, versions + 1):
            path = home / "models" / name / f"v{k}"
            model = DummyRegressor(strategy="constant", constant=float(k)).fit(X, np.zeros(2))
            mlflow.sklearn.save_model(model, str(path), pip_requirements=["scikit-learn"])
            client.create_model_version(name, str(path))
        return name

    return home, uri, client, add_model


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request, store):
    if request.param == "sqlite":
        yield f"sqlite:///{store[0] / 'ledger.db'}"
        return
    base = _pg_base_url()
    schema = f"retrain_crash_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    yield f"{base}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


def _killed_cli(store, ledger_url: str, *args: str, failpoint: str) -> subprocess.CompletedProcess:
    """The real ``retrain`` CLI in a fresh process that SIGKILLs itself at ``failpoint``."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "RETRAIN_HOME": str(store[0]),
           "RETRAIN_TRACKING_URI": store[1], "RETRAIN_LEDGER_URL": ledger_url, "RETRAIN_ACTOR": "pager"}
    env.pop("RETRAIN_FAILPOINT", None)
    if env.pop("PYTHONDONTWRITEBYTECODE", None):  # let the CLI runs share compiled MLflow
        env.setdefault("PYTHONPYCACHEPREFIX", str(store[0] / "pycache"))
    env["RETRAIN_FAILPOINT"] = failpoint
    return subprocess.run([sys.executable, "-m", "retrain.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300, cwd=REPO)


@pytest.fixture
def champion_prediction(store, monkeypatch):
    """Load ``models:/NAME@champion`` as a serving process would; global URIs restored after."""
    import mlflow

    for var in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        monkeypatch.setenv(var, store[1])  # recorded, so teardown restores the originals
    mlflow.set_tracking_uri(store[1])
    mlflow.set_registry_uri(store[1])
    yield lambda name: float(mlflow.pyfunc.load_model(f"models:/{name}@champion").predict(X)[0])
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)


@pytest.fixture
def next_command(store, ledger_url, monkeypatch):
    """The next ``retrain`` command, run in this process through the same Typer commands."""
    app = typer.Typer()
    registry_ops.register(app)
    for var, value in (("RETRAIN_HOME", str(store[0])), ("RETRAIN_TRACKING_URI", store[1]),
                       ("RETRAIN_LEDGER_URL", ledger_url), ("RETRAIN_ACTOR", "pager")):
        monkeypatch.setenv(var, value)
    monkeypatch.delenv("RETRAIN_FAILPOINT", raising=False)

    def run(*args: str) -> dict:
        result = CliRunner().invoke(app, [*args, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    return run


@pytest.fixture
def champion_3(store, ledger_url):
    """A model whose versions 1, 2, 3 were promoted in turn through the ledger."""
    name = store[3](3)
    stores = Stores(store[1], ledger_url)
    for version in ("1", "2", "3"):
        move_champion(stores, store[2], name, version, "promote", "gate", actor="gate")
    return name, stores


def test_killed_after_intent_leaves_champion_and_is_marked_failed(
    store, ledger_url, champion_3, champion_prediction, next_command
):
    name, stores = champion_3
    killed = _killed_cli(store, ledger_url, "rollback", name, "--reason", "bad", failpoint="after_intent")
    assert killed.returncode == -9, killed.stderr
    last = open_ledger(ledger_url).entries(name)[-1]
    assert (last.status, last.from_version, last.to_version) == ("pending", "3", "2")
    assert read_champion(store[2], name) == "3"

    [note] = next_command("history", name)["reconciled"]
    assert (note["entry_id"], note["outcome"]) == (last.id, "failed")
    assert open_ledger(ledger_url).entries(name)[-1].status == "failed"
    assert champion_prediction(name) == 3.0

    assert next_command("rollback", name)["to_version"] == "2"  # one step back, not two


def test_killed_after_alias_is_marked_applied_by_the_next_command(
    store, ledger_url, champion_3, champion_prediction, next_command
):
    name, stores = champion_3
    killed = _killed_cli(store, ledger_url, "rollback", name, failpoint="after_alias")
    assert killed.returncode == -9, killed.stderr
    last = open_ledger(ledger_url).entries(name)[-1]
    assert (last.status, last.to_version) == ("pending", "2")
    assert read_champion(store[2], name) == "2"
    assert champion_prediction(name) == 2.0

    data = next_command("rollback", name)
    assert [(n["entry_id"], n["outcome"]) for n in data["reconciled"]] == [(last.id, "applied")]
    assert (data["from_version"], data["to_version"]) == ("2", "1")
    statuses = [e.status for e in open_ledger(ledger_url).entries(name)]
    assert statuses == ["applied"] * 5
    assert store[2].get_model_version(name, "2").tags["retrain.rolled_back_from"] == "3"
    assert champion_prediction(name) == 1.0
