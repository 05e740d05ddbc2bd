"""Approval under ``retrain serve`` on a real Prefect server: a candidate waits longer than
Prefect's deployment concurrency lease and is approved from the terminal; meanwhile a second
served model has one candidate rejected with the ``approve`` deployment (the UI's form) and
one left until its deadline passed."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow import MlflowClient

from base.settings import load_config

from .test_serve_triggers import deployment, retrain_cli, wait_for

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]
LEASE_SECONDS = 30  # PREFECT_SERVER_CONCURRENCY_INITIAL_DEPLOYMENT_LEASE_DURATION of the test server


def run_and_wait(name: str, parameters: dict | None = None):
    """Start a deployment run as the UI's Run button does, then wait for its final state."""
    from prefect import get_client
    from prefect.deployments import run_deployment

    started = run_deployment(name, parameters=parameters or {}, timeout=0)

    def final():
        with get_client(sync_client=True) as client:
            run = client.read_flow_run(started.id)
        return run if run.state and run.state.is_final() else None

    return wait_for(f"{name} to finish", final, timeout=240)


def tags(config, version: str) -> dict:
    return (
        MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.tracking_uri)
        .get_model_version(config.name, version)
        .tags
    )


def champion(config) -> str | None:
    found = (
        MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.tracking_uri)
        .get_registered_model(config.name)
        .aliases.get("champion")
    )
    return None if found is None else str(found)


def manual_config(root: Path, synth, name: str, **extra) -> Path:
    """The model's config with ``approval: manual`` and a gate that passes any candidate."""
    return synth.write_config(
        root,
        name=name,
        approval="manual",
        gate={"max_regression": 1.0},
        estimator={"class_path": "slow_estimator.SlowLogisticRegression", "params": {}},
        **extra,
    )


@pytest.fixture
def served_models(tmp_path, synth, helpers, served_env):
    """Two models with ``approval: manual`` served by one ``retrain serve`` in a subprocess:
    ``synth-lease`` for the long wait, ``synth-appr`` for the answers given meanwhile."""
    roots = {name: tmp_path / name for name in ("synth-lease", "synth-appr")}
    for name, root in roots.items():
        helpers.build_model_workspace(root, synth, name)
    lease = load_config(manual_config(roots["synth-lease"], synth, "synth-lease", approval_timeout_hours=24))
    write = lambda **extra: manual_config(roots["synth-appr"], synth, "synth-appr", **extra)  # noqa: E731
    config = load_config(write(approval_timeout_hours=24))
    env = served_env(PREFECT_RUNNER_POLL_FREQUENCY="1", PYTHONPATH=str(roots["synth-appr"]))
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "retrain.cli", "serve", str(lease.config_path), str(config.config_path)],
        env=env,
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def registered():
        assert process.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
        try:
            return deployment("approve/synth-lease") and deployment("approve/synth-appr")
        except Exception:  # not created yet
            return None

    wait_for("retrain serve to register its deployments", registered)
    time.sleep(2)
    yield lease, config, write, env
    helpers.stop_group(process)
    log.close()


def add_month(config, synth, month: int) -> None:
    synth.make_month(month).to_csv(config.base_dir / "batches" / f"m{month:02d}.csv", index=False)


def test_waiting_candidates_survive_the_lease_and_are_answered(served_models, synth):
    lease, config, write, env = served_models

    waiting = run_and_wait("retrain/synth-lease")
    assert waiting.state.is_completed(), waiting.state
    assert tags(lease, "1")["retrain.outcome"] == "pending_approval" and champion(lease) is None

    # while synth-lease's candidate outlives the lease, the other model's are answered
    first = run_and_wait("retrain/synth-appr")
    assert first.state.is_completed(), first.state
    assert tags(config, "1")["retrain.outcome"] == "pending_approval"
    answer = run_and_wait("approve/synth-appr", {"version": 1, "approve": False, "comment": "not this one"})
    assert answer.state.is_completed(), answer.state
    assert tags(config, "1")["retrain.outcome"] == "approval_rejected" and champion(config) is None

    write(approval_timeout_hours=0.0005)  # the served flow reads the config at every run
    add_month(config, synth, 4)
    assert run_and_wait("retrain/synth-appr").state.is_completed()
    assert tags(config, "2")["retrain.outcome"] == "pending_approval"
    time.sleep(3)
    late = retrain_cli("approve", config.name, "2", "--config", str(config.config_path), "--json", env=env)
    assert late.returncode == 2 and "timed_out" in late.stdout, late.stdout + late.stderr
    assert tags(config, "2")["retrain.outcome"] == "timed_out" and champion(config) is None

    time.sleep(max(0.0, LEASE_SECONDS + 10 - (time.time() - waiting.start_time.timestamp())))
    done = retrain_cli("approve", lease.name, "--config", str(lease.config_path), "--as", "alice", "--json", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["verdict"] == "approved"
    assert champion(lease) == "1" and tags(lease, "1")["retrain.approval_by"] == "alice"
