"""Rollback and promotion run by a person from the Prefect UI, in headless Chromium.

A real ``prefect server start`` (parent conftest), Retrain's deployments registered on it and
served by ``retrain serve`` in a subprocess, MLflow and the ledger on SQLite. The browser
fills the deployment's "Custom run" form; the assertions read the ``champion`` alias from
MLflow and the entries from the ledger, not only what the page shows.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[4]
MODELS = ("ui-rollback", "ui-promote", "ui-approve")


def add_versions(config, count: int) -> None:
    """``count`` loadable versions of the model, each a constant classifier."""
    import mlflow
    import numpy as np
    from sklearn.dummy import DummyClassifier

    from registry.champion import make_client

    client = make_client(config)
    client.create_registered_model(config.name)
    for k in range(1, count + 1):
        path = config.home / "models" / f"v{k}"
        model = DummyClassifier(strategy="constant", constant=k % 2).fit(np.zeros((2, 1)), [0, 1])
        mlflow.sklearn.save_model(model, str(path), pip_requirements=["scikit-learn"])
        client.create_model_version(config.name, str(path))


def wait_for_approval(config, version: str, compared_with: str) -> None:
    """Make ``version`` a candidate that passed the gate against ``compared_with`` and now waits."""
    from datetime import timedelta

    from registry.approvals import request_approval
    from registry.champion import make_client
    from registry.ledger import utc_now

    client = make_client(config)
    client.set_model_version_tag(config.name, version, "gate.decision", "promote")
    client.set_model_version_tag(config.name, version, "gate.champion_version", compared_with)
    request_approval(client, config.name, version, utc_now() + timedelta(hours=1))


def champion(config) -> str | None:
    from mlflow import MlflowClient

    aliases = (
        MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.tracking_uri)
        .get_registered_model(config.name)
        .aliases
    )
    return None if "champion" not in aliases else str(aliases["champion"])


def entries(config) -> list:
    from registry.ledger import open_ledger

    return open_ledger(config.ledger_url).entries(config.name)


@pytest.fixture(scope="module")
def served(tmp_path_factory, synth, migrated_mlflow_db, served_env, helpers):
    """Per model three versions, champion moved v1 → v2 through the ledger; ``retrain serve`` runs them."""
    from base.settings import load_config
    from flows.deploy import register_deployments
    from registry.promotion import promote

    root = tmp_path_factory.mktemp("ui-models")
    configs = {}
    for name in MODELS:
        (root / name / "home").mkdir(parents=True)
        shutil.copy(migrated_mlflow_db, root / name / "home" / "mlflow.db")
        config = load_config(synth.write_config(root / name, name=name))
        add_versions(config, 3)
        for version in (1, 2):
            promote(config, None, name, version, reason=f"set up: v{version} champion", actor="test setup")
        configs[name] = config
    wait_for_approval(configs["ui-approve"], "3", compared_with="2")
    register_deployments(list(configs.values()))  # the UI lists them before the runner is up

    log_path = root / "serve.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "retrain.cli", "serve", *(str(c.config_path) for c in configs.values())],
        env=served_env(PREFECT_RUNNER_POLL_FREQUENCY="1"),
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield SimpleNamespace(configs=configs, process=process, log=log_path)
    finally:
        helpers.stop_group(process)
        log.close()


def finished_run(run_id: str, served, timeout: float = 300):
    """Wait for the flow run to end (the served runner picks it up); returns it."""
    from prefect import get_client

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            run = client.read_flow_run(run_id)
            if run.state and run.state.is_final():
                return run
            assert served.process.poll() is None, "retrain serve died:\n" + served.log.read_text()[-3000:]
            time.sleep(1)
    pytest.fail(f"flow run {run_id} did not finish in {timeout:.0f} s:\n" + served.log.read_text()[-3000:])


def test_rollback_from_the_prefect_ui_puts_the_previous_champion_back(served, page, ui_url, run_deployment_from_ui):
    config = served.configs["ui-rollback"]
    assert champion(config) == "2"
    reason = "v2 misbehaves: rolled back in the browser"

    run_id = run_deployment_from_ui(page, ui_url, "rollback/ui-rollback", {"reason": reason})

    run = finished_run(run_id, served)
    assert run.state.is_completed(), run.state.message
    assert run.parameters["reason"] == reason and run.parameters["to_version"] is None
    assert champion(config) == "1"
    last = entries(config)[-1]
    assert (last.action, last.from_version, last.to_version, last.status) == ("rollback", "2", "1", "applied")
    assert last.reason == reason
    assert last.run_id == run_id
    assert f"prefect flow run {run_id}" in last.actor


def test_promote_from_the_prefect_ui_fills_int_and_text_fields(served, page, ui_url, run_deployment_from_ui):
    config = served.configs["ui-promote"]
    assert champion(config) == "2"

    stale = run_deployment_from_ui(
        page, ui_url, "promote/ui-promote", {"version": 1, "reason": "stale view", "expect_current": 9}
    )
    run_id = run_deployment_from_ui(
        page, ui_url, "promote/ui-promote", {"version": 3, "reason": "hotfix chosen in the UI", "expect_current": 2}
    )

    refused, done = finished_run(stale, served), finished_run(run_id, served)
    assert refused.state.is_failed() and refused.parameters["expect_current"] == 9
    assert done.state.is_completed(), done.state.message
    assert {k: done.parameters[k] for k in ("model", "version", "reason", "expect_current")} == {
        "model": "ui-promote",
        "version": 3,
        "reason": "hotfix chosen in the UI",
        "expect_current": 2,
    }
    assert champion(config) == "3"
    moves = [(e.action, e.from_version, e.to_version, e.status, e.run_id) for e in entries(config)]
    assert moves[2:] == [("manual_promote", "2", "3", "applied", run_id)]  # the stale one wrote nothing
    assert f"prefect flow run {run_id}" in entries(config)[-1].actor


def test_approval_answered_in_the_prefect_ui_form_makes_the_candidate_champion(
    served, page, ui_url, run_deployment_from_ui
):
    """A candidate waits for approval; a person ticks *approve* in the approve deployment's form."""
    from mlflow import MlflowClient

    config = served.configs["ui-approve"]
    assert champion(config) == "2"
    run_id = run_deployment_from_ui(
        page,
        ui_url,
        "approve/ui-approve",
        {"version": 3, "approve": True, "comment": "holdout looks right", "approver": "alice"},
    )

    run = finished_run(run_id, served)
    assert run.state.is_completed(), run.state.message
    assert run.parameters["approve"] is True and run.parameters["version"] == 3
    assert champion(config) == "3"
    last = entries(config)[-1]
    assert (last.action, last.from_version, last.to_version, last.actor) == ("promote", "2", "3", "alice")
    assert "holdout looks right" in last.reason and last.run_id == run_id
    tags = (
        MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.tracking_uri)
        .get_model_version(config.name, "3")
        .tags
    )
    assert (tags["retrain.outcome"], tags["retrain.approval"], tags["retrain.approval_by"]) == (
        "promoted",
        "approved",
        "alice",
    )
