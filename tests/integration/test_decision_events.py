"""Every decision is one Prefect event on the model's resource, read back from the real test server."""

from __future__ import annotations

import time
import uuid

import pytest

pytestmark = pytest.mark.integration

EXPLODING = """
from sklearn.linear_model import LogisticRegression


class ExplodingLogisticRegression(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        raise RuntimeError("the fit broke")
"""


def events_of(model: str, name: str, expected: int, timeout: float = 60) -> list:
    """Events ``name`` about ``model`` once ``expected`` of them arrived (or the timeout passed)."""
    from prefect import get_client
    from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter

    query = EventFilter(event=EventNameFilter(name=[name]), resource=EventResourceFilter(id=[f"retrain.model.{model}"]))
    deadline = time.monotonic() + timeout
    while True:
        with get_client(sync_client=True) as client:
            found = client.read_events(filter=query, limit=50).events
        if len(found) >= expected or time.monotonic() > deadline:
            time.sleep(1)  # a second copy, were there one, would have arrived by now too
            with get_client(sync_client=True) as client:
                return client.read_events(filter=query, limit=50).events
        time.sleep(0.5)


def write_crippled(synth, root, model: str):
    """The same model with an estimator that predicts the prior: the gate rejects it."""
    estimator = {"class_path": "sklearn.dummy.DummyClassifier", "params": {"strategy": "prior"}}
    return synth.write_config(root, name=model, estimator=estimator)


@pytest.fixture
def named(workspace, synth):
    """The workspace's config under a model name no other test uses, so events are ours alone."""
    from base.settings import load_config

    name = f"synth-ev-{uuid.uuid4().hex[:8]}"
    path = synth.write_config(workspace.parent, name=name)
    return path, load_config(path).name


def test_a_promotion_a_quarantine_and_a_rollback_are_one_event_each(named, synth, tmp_path):
    from flows.ops import promote_flow, rollback_flow

    config_path, model = named
    first = synth.run_flow(config_path)
    assert first["status"] == "promoted"
    [promoted] = events_of(model, "retrain.model.promoted", 1)
    payload = promoted.payload
    assert payload["version"] == "1" and payload["model"] == model and payload["trigger"] == "manual"
    assert payload["metric"] == "roc_auc" and payload["candidate_score"] > 0.6 and payload["reasons"]
    assert payload["flow_run_id"] and payload["actor"]
    assert f"retrain.model.{model}.v1" in [r.id for r in promoted.related]  # beside the flow run Prefect adds

    bad = synth.make_month(4).drop(columns=["x1"])
    bad.to_csv(config_path.parent / "batches" / "m04.csv", index=False)
    assert synth.run_flow(config_path)["status"] == "data_invalid"
    [quarantined] = events_of(model, "retrain.model.quarantined", 1)
    assert quarantined.payload["quarantined"] and quarantined.payload["version"] is None

    synth.make_month(5).to_csv(config_path.parent / "batches" / "m05.csv", index=False)
    second = synth.run_flow(config_path)
    assert second["version"] == "2"
    promote_flow(model=model, version=2, reason="try it", config_path=str(config_path))
    rollback_flow(model=model, reason="it was worse", config_path=str(config_path))
    [rolled] = events_of(model, "retrain.model.rolled_back", 1)
    assert rolled.payload["from_version"] == "2" and rolled.payload["version"] == "1"
    assert rolled.payload["reason"] == "it was worse"
    # v1 by the first run; v2 by the second run or, when its gate said no, by the promote flow (a
    # promotion of the champion already in place changes nothing and says nothing)
    promotions = events_of(model, "retrain.model.promoted", 2)
    assert sorted(e.payload["version"] for e in promotions) == ["1", "2"]  # never twice for one decision


def test_a_rejection_and_a_failed_run(named, synth, tmp_path, monkeypatch):
    config_path, model = named
    assert synth.run_flow(config_path)["status"] == "promoted"
    crippled = write_crippled(synth, config_path.parent, model)
    assert synth.run_flow(crippled)["status"] == "rejected"
    [rejected] = events_of(model, "retrain.model.rejected", 1)
    assert rejected.payload["version"] == "2" and any(r.startswith("fail:") for r in rejected.payload["reasons"])

    (tmp_path / "exploding_estimator.py").write_text(EXPLODING)
    monkeypatch.syspath_prepend(str(tmp_path))
    exploding = synth.write_config(
        config_path.parent,
        name=model,
        estimator={"class_path": "exploding_estimator.ExplodingLogisticRegression", "params": {}},
    )
    synth.make_month(4).to_csv(config_path.parent / "batches" / "m04.csv", index=False)
    with pytest.raises(RuntimeError, match="the fit broke"):
        synth.run_flow(exploding)
    [failed] = events_of(model, "retrain.model.run.failed", 1)
    assert failed.payload["error"] == "RuntimeError" and "the fit broke" in failed.payload["message"]


def test_a_champion_moved_in_mlflow_is_recorded_and_announced_once(named, synth):
    from mlflow import MlflowClient

    from base.settings import load_config

    config_path, model = named
    assert synth.run_flow(config_path)["status"] == "promoted"
    crippled = write_crippled(synth, config_path.parent, model)
    assert synth.run_flow(crippled)["status"] == "rejected"
    uri = load_config(config_path).tracking_uri
    MlflowClient(tracking_uri=uri, registry_uri=uri).set_registered_model_alias(model, "champion", "2")

    synth.make_month(4).to_csv(config_path.parent / "batches" / "m04.csv", index=False)
    outcome = synth.run_flow(config_path)
    assert any("moved outside Retrain, v1 → v2" in note for note in outcome["notes"]), outcome["notes"]
    assert outcome["previous_champion"] == "2"  # the run gated against what MLflow shows
    synth.run_flow(config_path)  # nothing new: the move is not announced again
    [moved] = events_of(model, "retrain.champion.moved_outside", 2, timeout=5)
    assert (moved.payload["from_version"], moved.payload["version"]) == ("1", "2")
