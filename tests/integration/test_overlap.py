"""Operations that overlap on one model: concurrent retrains, a rollback during training, a
retrain after a rollback, a hold, and a retrain killed right after registering.

Retrains run as real ``retrain run`` processes (against this session's Prefect test server);
their estimator sleeps in ``fit`` and logs when it trains, so overlaps are certain and
"at most one retrain trains at a time" is read from the log, not assumed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow import MlflowClient

from base.exitcodes import Exit
from base.settings import load_config
from registry.ledger import open_ledger

from .conftest import make_month, run_flow

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]

LOGGED_ESTIMATOR = '''
import os
import time

from sklearn.linear_model import LogisticRegression


class SlowLogisticRegression(LogisticRegression):
    """Sleeps SLOW_FIT_SECONDS in fit, or until the file FIT_HOLD exists, and logs start/end lines to FIT_LOG.

    A hold is released by the test when it has done what must happen during training, so the
    overlap is certain however slowly a busy machine starts the other process.
    """

    def _log(self, what):
        if os.environ.get("FIT_LOG"):
            with open(os.environ["FIT_LOG"], "a") as log:
                log.write(f"{what} {os.getpid()} {time.time()}\\n")

    def fit(self, X, y, sample_weight=None):
        self._log("start")
        time.sleep(float(os.environ.get("SLOW_FIT_SECONDS", "0")))
        hold, deadline = os.environ.get("FIT_HOLD"), time.monotonic() + 600
        while hold and not os.path.exists(hold) and time.monotonic() < deadline:
            time.sleep(0.05)
        fitted = super().fit(X, y, sample_weight)
        self._log("end")
        return fitted
'''


@pytest.fixture
def model(workspace, synth, tmp_path, monkeypatch, request):
    """The synthetic workspace with the logging estimator and a gate any sane candidate passes.

    Tests that ask for ``ledger_url`` run once with the ledger on SQLite, once on PostgreSQL.
    """
    (tmp_path / "slow_estimator.py").write_text(LOGGED_ESTIMATOR)
    monkeypatch.syspath_prepend(str(tmp_path))
    state = {"ledger_url": request.getfixturevalue("ledger_url")} if "ledger_url" in request.fixturenames else {}
    path = synth.write_config(
        tmp_path,
        gate={"max_regression": 1.0},
        state=state,
        estimator={"class_path": "slow_estimator.SlowLogisticRegression", "params": {}},
    )
    return load_config(path)


@pytest.fixture
def start_run(model, child_env, tmp_path):
    """``start(*args, slow=s, hold=path)``: a ``retrain run`` process on the model, talking to the test server.

    With ``hold`` its fit waits until that file exists (``release_fit``).
    """
    from prefect.settings import PREFECT_API_URL

    def start(*args: str, slow: float = 0, hold: Path | None = None, **env: str) -> subprocess.Popen:
        if hold is not None:
            env["FIT_HOLD"] = str(hold)
        environment = child_env(
            PYTHONPATH=f"{REPO}:{tmp_path}",
            PREFECT_API_URL=PREFECT_API_URL.value(),
            SLOW_FIT_SECONDS=str(slow),
            FIT_LOG=str(tmp_path / "fits.log"),
            **env,
        )
        return subprocess.Popen(
            [sys.executable, "-m", "retrain.cli", "run", str(model.config_path), "--json", *args],
            env=environment,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    return start


def finish(process: subprocess.Popen) -> tuple[int, dict]:
    out, err = process.communicate(timeout=600)
    assert "Traceback" not in err, err[-3000:]
    return process.returncode, json.loads(out)


def client(config) -> MlflowClient:
    return MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.tracking_uri)


def champion(config) -> str | None:
    found = client(config).get_registered_model(config.name).aliases.get("champion")
    return None if found is None else str(found)


def versions(config) -> list:
    return sorted(client(config).search_model_versions(f"name = '{config.name}'"), key=lambda v: int(v.version))


def add_month(config, month: int) -> None:
    make_month(month).to_csv(config.base_dir / "batches" / f"m{month:02d}.csv", index=False)


def fit_intervals(path: Path) -> list[tuple[float, float]]:
    """(start, end) of every fit, per process, from the estimator's log."""
    starts, spans = {}, []
    for line in path.read_text().splitlines():
        what, pid, at = line.split()
        if what == "start":
            starts[pid] = float(at)
        else:
            spans.append((starts.pop(pid), float(at)))
    assert not starts, f"a fit never ended: {starts}"
    return sorted(spans)


def assert_every_promotion_was_gated_against_what_it_replaced(config) -> None:
    tags = {str(v.version): v.tags for v in versions(config)}
    for entry in open_ledger(config.ledger_url).entries(config.name):
        if entry.action == "promote":
            compared = tags[entry.to_version].get("gate.champion_version")
            assert compared == entry.from_version, (entry, compared)


def release_fit(hold: Path) -> None:
    hold.touch()


def wait_until_training(path: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and "start" in path.read_text()):
        assert time.monotonic() < deadline, "the retrain never started training"
        time.sleep(0.2)


def test_three_concurrent_retrains_take_turns_and_register_one_model(ledger_url, model, start_run, tmp_path):
    assert run_flow(model.config_path)["status"] == "promoted"  # v1
    add_month(model, 4)
    runs = [start_run("--wait", "600", slow=3) for _ in range(3)]
    results = [finish(r) for r in runs]

    statuses = sorted(outcome["status"] for _, outcome in results)
    assert statuses == ["promoted", "unchanged", "unchanged"], results
    assert sorted(code for code, _ in results) == [Exit.OK] * 3
    spans = fit_intervals(tmp_path / "fits.log")
    assert len(spans) == 1  # the two that waited found the champion already made from this data
    assert [str(v.version) for v in versions(model)] == ["1", "2"] and champion(model) == "2"
    assert_every_promotion_was_gated_against_what_it_replaced(model)


def test_a_second_retrain_without_wait_exits_busy_and_changes_nothing(model, start_run, tmp_path):
    """On SQLite; the lease on PostgreSQL is covered by the concurrent test and the unit tests."""
    assert run_flow(model.config_path)["status"] == "promoted"
    add_month(model, 4)
    first = start_run(hold=tmp_path / "go")
    wait_until_training(tmp_path / "fits.log")
    code, outcome = finish(start_run())
    release_fit(tmp_path / "go")
    assert code == Exit.BUSY and outcome["status"] == "busy", outcome
    assert "another retrain" in outcome["message"] and "--wait" in outcome["message"]
    assert finish(first)[1]["status"] == "promoted"
    assert len(fit_intervals(tmp_path / "fits.log")) == 1  # only the first process trained
    assert_every_promotion_was_gated_against_what_it_replaced(model)


def test_a_rollback_during_training_is_not_overwritten(model, start_run, tmp_path):
    from registry.promotion import rollback

    assert run_flow(model.config_path)["status"] == "promoted"
    add_month(model, 4)
    assert run_flow(model.config_path)["status"] == "promoted"  # v2
    add_month(model, 5)
    running = start_run(hold=tmp_path / "go")
    wait_until_training(tmp_path / "fits.log")
    while "start" not in (tmp_path / "fits.log").read_text().splitlines()[-1]:
        time.sleep(0.2)
    rollback(model, None, model.name, reason="v2 misbehaves", actor="oncall")  # 2 -> 1 while v3 trains
    release_fit(tmp_path / "go")
    code, outcome = finish(running)
    assert (code, outcome["status"]) == (Exit.REJECTED, "superseded"), outcome
    assert champion(model) == "1"
    assert client(model).get_model_version(model.name, outcome["version"]).tags["retrain.outcome"] == "superseded"
    assert_every_promotion_was_gated_against_what_it_replaced(model)


def test_retrain_after_rollback_keeps_the_champion_and_a_hold_waits_for_release(model, start_run):
    from registry.promotion import release, rollback

    assert run_flow(model.config_path)["status"] == "promoted"
    add_month(model, 4)
    assert run_flow(model.config_path)["status"] == "promoted"  # v2
    rollback(model, None, model.name, reason="v2 misbehaves", actor="oncall")
    again = run_flow(model.config_path, trigger="schedule")  # same data as v2: v2 again
    assert again["status"] == "withheld" and again["version"] is None, again
    assert champion(model) == "1" and len(versions(model)) == 2

    rollback(model, None, model.name, to="2", reason="look again", actor="oncall")  # back on v2 ...
    rollback(model, None, model.name, reason="hold everything", actor="oncall", hold=True)  # ... and off, held
    add_month(model, 5)
    held = run_flow(model.config_path, trigger="drift")  # new data, a different (better) candidate
    assert held["status"] == "withheld" and "hold" in held["message"], held
    assert held["version"] == "3" and champion(model) == "1"
    code, manual = finish(start_run())  # a person's run without --override respects the hold too
    assert (code, manual["status"]) == (Exit.WITHHELD, "withheld"), manual

    release(model, model.name, actor="oncall")
    code, after = finish(start_run())
    assert (code, after["status"]) == (Exit.OK, "promoted"), after
    assert champion(model) == after["version"]
    assert_every_promotion_was_gated_against_what_it_replaced(model)


def test_a_retrain_killed_after_registering_leaves_no_version_in_limbo(model, start_run, child_env, tmp_path):
    killed = start_run(RETRAIN_FAILPOINT="after_register")
    killed.communicate(timeout=600)
    assert killed.returncode == -9
    [stranded] = versions(model)
    assert stranded.tags["gate.decision"] == "promote" and "retrain.outcome" not in stranded.tags
    done = subprocess.run(
        [sys.executable, "-m", "retrain.cli", "status", model.name, "--json", "--config", str(model.config_path)],
        env=child_env(PYTHONPATH=str(REPO)),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    status = json.loads(done.stdout)
    assert any("abandoned" in note for note in status["notes"]), status
    tags = client(model).get_model_version(model.name, "1").tags
    assert tags["retrain.outcome"] == "abandoned" and "ended before promoting" in tags["retrain.abandoned_reason"]
    assert champion(model) is None
    assert run_flow(model.config_path)["status"] == "promoted"  # the next retrain is not blocked by it
