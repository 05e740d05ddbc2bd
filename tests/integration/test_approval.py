"""Manual approval end to end: the retrain ends ``pending_approval`` and its version waits in
the registry; a person answers from the terminal or with the ``approve`` flow the UI runs.
The champion alias, the ledger and the version's tags tell the result."""

from __future__ import annotations

import time

import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from base.exitcodes import Exit
from base.settings import load_config

from .conftest import make_month, run_flow

pytestmark = pytest.mark.integration


def champion(config):
    found = (
        MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.tracking_uri)
        .get_registered_model(config.name)
        .aliases.get("champion")
    )
    return None if found is None else str(found)


def version_tags(config, version: str) -> dict:
    return (
        MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.tracking_uri)
        .get_model_version(config.name, version)
        .tags
    )


def cli(*args: str):
    from retrain.cli import app

    return CliRunner().invoke(app, list(args))


@pytest.fixture
def manual(workspace, synth, tmp_path):
    """The synthetic model with ``approval: manual`` and a gate any sane candidate passes."""
    return lambda hours=1.0, approval="manual": synth.write_config(
        tmp_path, approval=approval, approval_timeout_hours=hours, gate={"max_regression": 1.0}
    )


def rejection_events(model: str, words: str, timeout: float = 20.0) -> list:
    """``retrain.model.rejected`` events of ``model`` whose reason holds ``words`` (other tests share the name)."""
    from prefect import get_client
    from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter

    query = EventFilter(
        event=EventNameFilter(name=["retrain.model.rejected"]),
        resource=EventResourceFilter(id=[f"retrain.model.{model}"]),
    )

    def read() -> list:
        with get_client(sync_client=True) as client:
            events = client.read_events(filter=query, limit=50).events
        return [e for e in events if words in e.payload.get("reason", "")]

    deadline = time.monotonic() + timeout
    while not read() and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(1)  # a second copy, were there one, would have arrived by now too
    return read()


def add_month(config, month: int) -> None:
    make_month(month).to_csv(config.base_dir / "batches" / f"m{month:02d}.csv", index=False)


def test_waiting_candidate_is_approved_from_the_terminal(manual):
    from registry.promotion import history

    config = load_config(manual())
    outcome = run_flow(config.config_path)
    assert outcome["status"] == "pending_approval", outcome
    assert champion(config) is None  # nothing moves while the candidate waits
    assert version_tags(config, "1")["retrain.outcome"] == "pending_approval"

    done = cli(
        "approve",
        config.name,
        "--comment",
        "holdout looks right",
        "--as",
        "alice",
        "--json",
        "--config",
        str(config.config_path),
    )
    assert done.exit_code == Exit.OK, done.stdout
    assert champion(config) == "1"
    entry = history(config, config.name)[-1]
    assert (entry.to_version, entry.actor, entry.status) == ("1", "alice", "applied")
    assert "holdout looks right" in entry.reason
    tags = version_tags(config, "1")
    assert (tags["retrain.approval"], tags["retrain.approval_by"], tags["retrain.outcome"]) == (
        "approved",
        "alice",
        "promoted",
    )

    again = cli("approve", config.name, "1", "--json", "--config", str(config.config_path))
    assert again.exit_code != Exit.OK and "promoted" in again.stdout  # says what became of it


def test_reject_from_the_ui_flow_keeps_the_champion_and_blocks_the_candidate(manual):
    from flows.approval import approve_flow
    from registry.ledger import open_ledger
    from registry.verdicts import active_blocks

    config = load_config(manual())
    assert run_flow(config.config_path)["status"] == "pending_approval"
    # what the UI's form sends when the box stays unticked and no name is given
    answer = approve_flow(
        model=config.name,
        version=1,
        approve=False,
        comment="wait for the new month",
        config_path=str(config.config_path),
    )
    assert answer["verdict"] == "approval_rejected"
    assert champion(config) is None
    [said] = rejection_events(config.name, "wait for the new month")  # the person's answer is one event
    assert said.payload["status"] == "approval_rejected" and said.payload["version"] == "1"
    assert said.payload["headline"] == "v1 rejected; champion none stays"
    tags = version_tags(config, "1")
    assert tags["retrain.approval"] == "rejected" and tags["retrain.approval_comment"] == "wait for the new month"
    assert tags["retrain.approval_by"].startswith("prefect-ui")
    assert [b.version for b in active_blocks(open_ledger(config.ledger_url), config.name)] == ["1"]
    # the same data again is the rejected model again: not even trained
    again = run_flow(config.config_path)
    assert again["status"] == "withheld" and "v1" in again["message"], again


def test_an_approval_after_the_deadline_is_refused_and_recorded_as_timed_out(manual):
    config = load_config(manual(hours=0.0005))  # under two seconds
    assert run_flow(config.config_path)["status"] == "pending_approval"
    time.sleep(2.5)
    late = cli("approve", config.name, "--json", "--config", str(config.config_path))
    assert late.exit_code == Exit.USAGE, late.stdout
    assert "timed_out" in late.stdout or "waits for approval" in late.stdout
    assert champion(config) is None
    assert version_tags(config, "1")["retrain.outcome"] == "timed_out"


def test_an_approval_after_the_champion_moved_is_superseded(manual):
    from registry.promotion import rollback

    config = load_config(manual(approval="auto"))
    assert run_flow(config.config_path)["status"] == "promoted"
    add_month(config, 4)
    assert run_flow(config.config_path)["status"] == "promoted"
    config = load_config(manual(approval="manual"))
    add_month(config, 5)
    waiting = run_flow(config.config_path)
    assert waiting["status"] == "pending_approval" and waiting["champion_version"] == "2", waiting

    rollback(config, None, config.name, reason="v2 misbehaves", actor="carol")  # champion 2 -> 1
    done = cli("approve", config.name, "3", "--json", "--config", str(config.config_path))
    assert done.exit_code == Exit.EXPECTATION_MISMATCH, done.stdout
    assert "superseded" in done.stdout
    assert champion(config) == "1"
    assert version_tags(config, "3")["retrain.outcome"] == "superseded"
