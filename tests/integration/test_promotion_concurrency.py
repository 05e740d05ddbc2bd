"""Two processes promoting one model at once leave one consistent story, SQLite or PostgreSQL.

Both processes start their loops together (a file barrier, not a sleep) and each promotes
several versions through ``move_champion``. Afterwards the applied entries must chain
(each one's from-version is the previous one's to-version), nothing may be left pending,
and the last applied version must be MLflow's champion. Without the database lock two
racers read the same champion and the chain breaks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from registry.ledger import Stores, open_ledger
from registry.promotion import move_champion, read_champion

REPO = Path(__file__).resolve().parents[2]
X = np.zeros((2, 1))
PLANS = (["2", "3", "4", "2", "3"], ["4", "3", "2", "4", "2"])

RACER = """
import json, os, sys, time
from pathlib import Path
from mlflow import MlflowClient
from registry.ledger import Stores
from registry.promotion import move_champion
stores = Stores(os.environ["TRACKING"], os.environ["LEDGER"])
client = MlflowClient(tracking_uri=stores.tracking_uri, registry_uri=stores.tracking_uri)
barrier = Path(os.environ["BARRIER"])
(barrier / f"ready-{os.getpid()}").touch()
while not (barrier / "go").exists():
    time.sleep(0.01)
results = []
for version in sys.argv[2:]:
    r = move_champion(stores, client, os.environ["MODEL"], version, "promote", f"racer {sys.argv[1]}")
    results.append([r.from_version, r.to_version, r.changed])
print(json.dumps(results))
"""


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
    from mlflow import MlflowClient

    home = tmp_path_factory.mktemp("race-home")
    uri = f"sqlite:///{home / 'mlflow.db'}"
    return home, uri, MlflowClient(tracking_uri=uri, registry_uri=uri)


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request, store):
    if request.param == "sqlite":
        yield f"sqlite:///{store[0] / 'ledger.db'}"
        return
    base = _pg_base_url()
    schema = f"retrain_race_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    yield f"{base}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


def _add_model(store, versions: int) -> str:
    import mlflow
    from sklearn.dummy import DummyRegressor

    home, _, client = store
    name = f"race-{uuid.uuid4().hex[:8]}"
    client.create_registered_model(name)
    for k in range(1, versions + 1):
        path = home / "models" / name / f"v{k}"
        model = DummyRegressor(strategy="constant", constant=float(k)).fit(X, np.zeros(2))
        mlflow.sklearn.save_model(model, str(path), pip_requirements=["scikit-learn"])
        client.create_model_version(name, str(path))
    return name


def _child_env(store, ledger_url: str, name: str, barrier: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TRACKING": store[1], "LEDGER": ledger_url,
           "MODEL": name, "BARRIER": str(barrier), "RETRAIN_ACTOR": "racer"}
    if env.pop("PYTHONDONTWRITEBYTECODE", None):  # let children share compiled MLflow
        env.setdefault("PYTHONPYCACHEPREFIX", str(store[0] / "pycache"))
    env.pop("RETRAIN_FAILPOINT", None)
    return env


def test_concurrent_promotions_serialise(store, ledger_url, tmp_path):
    name = _add_model(store, 4)
    stores = Stores(store[1], ledger_url)
    move_champion(stores, store[2], name, "1", "promote", "first", actor="gate")
    env = _child_env(store, ledger_url, name, tmp_path)
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(i), *plan], env=env, cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for i, plan in enumerate(PLANS)]
    try:
        while len(list(tmp_path.glob("ready-*"))) < len(racers):  # both imported and connected
            assert all(r.poll() is None for r in racers), [r.communicate()[1][-2000:] for r in racers]
            time.sleep(0.05)
        (tmp_path / "go").touch()
        outputs = [r.communicate(timeout=600) for r in racers]
    finally:
        for r in racers:
            if r.poll() is None:
                r.kill()
    for racer, (out, err) in zip(racers, outputs):
        assert racer.returncode == 0, err[-3000:]
    results = [move for out, _ in outputs for move in json.loads(out.strip().splitlines()[-1])]

    entries = open_ledger(ledger_url).entries(name)
    assert [e.status for e in entries if e.status != "applied"] == []
    applied = entries
    assert len(applied) == 1 + sum(1 for _, _, changed in results if changed)
    for before, after in zip(applied, applied[1:]):
        assert after.from_version == before.to_version, [(e.from_version, e.to_version) for e in applied]
    assert read_champion(store[2], name) == applied[-1].to_version
    moved = sorted((f, t) for f, t, changed in results if changed)
    assert moved == sorted((e.from_version, e.to_version) for e in applied[1:])
