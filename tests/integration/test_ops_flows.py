"""Rollback and manual promotion as Prefect flows: what a person runs from the UI."""

from __future__ import annotations

import pytest
from mlflow import MlflowClient

from base.settings import load_config


def champion(config) -> str:
    return str(
        MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.tracking_uri)
        .get_registered_model(config.name)
        .aliases["champion"]
    )


@pytest.mark.integration
def test_promote_then_rollback_from_flows(workspace, synth, tmp_path):
    from flows.ops import promote_flow, rollback_flow
    from registry.promotion import history

    config = load_config(workspace)
    assert synth.run_flow(workspace)["status"] == "promoted"
    synth.make_month(4).to_csv(tmp_path / "batches" / "m04.csv", index=False)
    crippled = synth.write_config(
        tmp_path, estimator={"class_path": "sklearn.dummy.DummyClassifier", "params": {"strategy": "prior"}}
    )
    assert synth.run_flow(crippled)["status"] == "rejected"  # v2 exists but is not champion

    promoted = promote_flow(model=config.name, version=2, reason="hotfix", config_path=str(workspace))
    assert promoted["to_version"] == "2" and promoted["from_version"] == "1"
    assert champion(config) == "2"

    rolled = rollback_flow(model=config.name, reason="v2 misbehaves", config_path=str(workspace))
    assert rolled["from_version"] == "2" and rolled["to_version"] == "1"
    assert champion(config) == "1"

    entries = [e.to_dict() for e in history(config, config.name)]
    assert [e["action"] for e in entries] == ["promote", "manual_promote", "rollback"]
    assert all(e["status"] == "applied" for e in entries)
    assert "prefect flow run" in entries[-1]["actor"]


@pytest.mark.integration
def test_rollback_flow_refuses_a_stale_expectation(workspace, synth):
    from flows.ops import rollback_flow
    from registry.promotion_types import ExpectationMismatch

    config = load_config(workspace)
    synth.run_flow(workspace)
    with pytest.raises(ExpectationMismatch):
        rollback_flow(model=config.name, reason="x", expect_current=7, config_path=str(workspace))
    assert champion(config) == "1"
