"""Two processes promoting one model at once leave one consistent story, SQLite or PostgreSQL.

Both processes start their loops together (a file barrier, not a sleep) and each promotes
several versions through ``move_champion``. Afterwards the applied entries must chain
(each one's from-version is the previous one's to-version), nothing may be left pending,
and the last applied version must be MLflow's champion. Without the database lock two
racers read the same champion and the chain breaks.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

from registry.champion import read_champion
from registry.ledger import Stores, open_ledger
from registry.promotion import move_champion

REPO = Path(__file__).resolve().parents[2]
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


def test_concurrent_promotions_serialise(model_store, ledger_url, child_env, tmp_path):
    name = model_store.add_model(4)
    stores = Stores(model_store.uri, ledger_url)
    move_champion(stores, model_store.client, name, "1", "promote", "first", actor="gate")
    env = child_env(
        TRACKING=model_store.uri, LEDGER=ledger_url, MODEL=name, BARRIER=str(tmp_path), RETRAIN_ACTOR="racer"
    )
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(i), *plan],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, plan in enumerate(PLANS)
    ]
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
    for racer, (_out, err) in zip(racers, outputs, strict=False):
        assert racer.returncode == 0, err[-3000:]
    results = [move for out, _ in outputs for move in json.loads(out.strip().splitlines()[-1])]

    entries = open_ledger(ledger_url).entries(name)
    assert [e.status for e in entries if e.status != "applied"] == []
    applied = entries
    assert len(applied) == 1 + sum(1 for _, _, changed in results if changed)
    for before, after in itertools.pairwise(applied):
        assert after.from_version == before.to_version, [(e.from_version, e.to_version) for e in applied]
    assert read_champion(model_store.client, name) == applied[-1].to_version
    moved = sorted((f, t) for f, t, changed in results if changed)
    assert moved == sorted((e.from_version, e.to_version) for e in applied[1:])
