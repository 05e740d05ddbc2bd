"""Manual approval end to end: the retrain flow pauses on a real Prefect server and is resumed
from the terminal or with the UI's form input; the champion alias and the ledger tell the result."""

from __future__ import annotations

import threading
import time

import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from retrain.config import load_config
from retrain.exitcodes import Exit

pytestmark = pytest.mark.integration


def start_retrain(config_path) -> tuple[threading.Thread, dict]:
    """Run the flow in a thread, as a served deployment would run it in its own process."""
    from flows.retrain import retrain_flow

    box: dict = {}

    def target():
        try:
            box["outcome"] = retrain_flow(config_path=str(config_path), trigger="manual")
        except BaseException as exc:  # surfaced by finish()
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


def finish(thread: threading.Thread, box: dict) -> dict:
    thread.join(timeout=240)
    assert not thread.is_alive(), "the retrain run did not finish"
    if "error" in box:
        raise box["error"]
    return box["outcome"]


def paused_run(thread: threading.Thread, timeout: float = 240):
    """The retrain run once it waits for approval."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    query = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED])))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and thread.is_alive():
        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs(flow_run_filter=query, sort=FlowRunSort.START_TIME_DESC, limit=5)
        if runs:
            return runs[0]
        time.sleep(0.5)
    pytest.fail("the retrain run never paused for approval")


def champion(config):
    found = MlflowClient(tracking_uri=config.tracking_uri).get_registered_model(config.name).aliases.get("champion")
    return None if found is None else str(found)


def version_tags(config, version: str) -> dict:
    return MlflowClient(tracking_uri=config.tracking_uri).get_model_version(config.name, version).tags


@pytest.fixture
def manual(workspace, synth, tmp_path, monkeypatch):
    """The synthetic model with ``approval: manual``; the CLI finds the test server via the env."""
    from prefect.settings import PREFECT_API_URL

    monkeypatch.setenv("PREFECT_API_URL", PREFECT_API_URL.value())
    return lambda hours=0.03: synth.write_config(tmp_path, approval="manual", approval_timeout_hours=hours)


def test_approve_from_terminal_promotes_and_records_who(manual):
    from registry.promotion import history
    from retrain.cli import app

    config_path = manual()
    config = load_config(config_path)
    thread, box = start_retrain(config_path)
    run = paused_run(thread)
    assert champion(config) is None  # nothing moves while the candidate waits

    done = CliRunner().invoke(app, ["approve", str(run.id), "--comment", "holdout looks right", "--as", "alice",
                                    "--json"])
    assert done.exit_code == Exit.OK, done.stdout
    outcome = finish(thread, box)

    assert outcome["status"] == "promoted", outcome
    assert champion(config) == "1"
    entry = history(config, config.name)[-1]
    assert (entry.to_version, entry.actor, entry.status) == ("1", "alice", "applied")
    assert "holdout looks right" in entry.reason
    tags = version_tags(config, "1")
    assert (tags["retrain.approval"], tags["retrain.approval_by"]) == ("approved", "alice")


def test_reject_from_the_form_keeps_the_champion_and_tags_the_version(manual):
    from prefect.flow_runs import resume_flow_run

    from registry.promotion import history

    config_path = manual()
    config = load_config(config_path)
    thread, box = start_retrain(config_path)
    run = paused_run(thread)
    # what the UI sends when the box stays unticked and no name is given
    resume_flow_run(run.id, run_input={"approve": False, "comment": "wait for the new month", "approver": ""})
    outcome = finish(thread, box)

    assert outcome["status"] == "approval_rejected", outcome
    assert champion(config) is None
    assert history(config, config.name) == []
    tags = version_tags(config, "1")
    assert tags["retrain.approval"] == "rejected"
    assert tags["retrain.approval_by"] == "prefect-ui"
    assert tags["retrain.approval_comment"] == "wait for the new month"


def test_timeout_rejects_and_closes_the_form(manual):
    from prefect import get_client

    from retrain.cli import app

    config_path = manual(hours=0.0005)  # two seconds
    config = load_config(config_path)
    thread, box = start_retrain(config_path)
    run = paused_run(thread)
    outcome = finish(thread, box)

    assert outcome["status"] == "approval_rejected", outcome
    assert "timed out" in outcome["message"]
    assert champion(config) is None
    assert version_tags(config, "1")["retrain.approval"] == "timed_out"
    with get_client(sync_client=True) as client:
        assert client.read_flow_run(run.id).state.is_completed()
    late = CliRunner().invoke(app, ["approve", str(run.id), "--json"])
    assert late.exit_code == Exit.USAGE and "not waiting" in late.stdout
