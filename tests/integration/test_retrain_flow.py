"""The real retrain flow end to end: GX, scikit-learn, MLflow on SQLite, Prefect test server."""

from __future__ import annotations

import json

import pytest
from mlflow import MlflowClient

from base.settings import load_config


def champion_of(config):
    client = MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.tracking_uri)
    try:
        return str(client.get_model_version_by_alias(config.name, "champion").version)
    except Exception:
        return None


def versions_of(config):
    client = MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.tracking_uri)
    return sorted(int(v.version) for v in client.search_model_versions(f"name='{config.name}'"))


@pytest.mark.integration
def test_first_run_promotes_with_lineage(workspace, synth):
    outcome = synth.run_flow(workspace)
    config = load_config(workspace)

    assert outcome["status"] == "promoted", outcome
    assert outcome["version"] == "1"
    assert champion_of(config) == "1"
    client = MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.tracking_uri)
    version = client.get_model_version(config.name, "1")
    for key in ("data_hash", "train_window", "holdout_window", "batch_files", "code_version"):
        assert version.tags.get(key), f"lineage tag {key} missing: {version.tags}"
    assert "m01.csv" in version.tags["batch_files"] and "m03.csv" in version.tags["batch_files"]
    assert "challenger" not in client.get_registered_model(config.name).aliases  # it became champion
    # first model of a name: only floor and output checks are reported
    assert outcome["decision"]["champion_score"] is None
    assert outcome["decision"]["candidate_score"] >= 0.6


@pytest.mark.integration
def test_worse_candidate_is_challenger_not_champion(workspace, synth, tmp_path):
    assert synth.run_flow(workspace)["status"] == "promoted"
    synth.make_month(4).to_csv(tmp_path / "batches" / "m04.csv", index=False)
    crippled = synth.write_config(
        tmp_path, estimator={"class_path": "sklearn.dummy.DummyClassifier", "params": {"strategy": "prior"}}
    )
    outcome = synth.run_flow(crippled)
    config = load_config(crippled)

    assert outcome["status"] == "rejected", outcome
    assert outcome["version"] == "2"
    assert champion_of(config) == "1"
    client = MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.tracking_uri)
    assert str(client.get_registered_model(config.name).aliases.get("challenger")) == "2"
    reasons = " ".join(outcome["decision"]["reasons"]).lower()
    assert "floor" in reasons or "regress" in reasons


@pytest.mark.integration
def test_better_fresh_month_is_gated_on_same_holdout(workspace, synth, tmp_path):
    synth.run_flow(workspace)
    synth.make_month(4).to_csv(tmp_path / "batches" / "m04.csv", index=False)
    outcome = synth.run_flow(workspace)
    decision = outcome["decision"]

    assert outcome["version"] == "2"
    assert decision["champion_version"] == "1"
    assert decision["champion_score"] is not None
    boot = decision["bootstrap"]
    assert boot["low"] <= boot["mean_diff"] <= boot["high"]
    assert (
        outcome["lineage"]["holdout_window"].startswith("2024-04") or "2024-04" in outcome["lineage"]["holdout_window"]
    )
    # the champion's score is v1 scored on this run's holdout, computed here independently
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    from base.settings import load_config
    from registry.versions import load_model
    from training.data import load_batch
    from training.split import split_by_time

    config = load_config(workspace)
    frames = [load_batch(p, "ts") for p in sorted((tmp_path / "batches").glob("*.csv"))]
    holdout = split_by_time(pd.concat(frames, ignore_index=True), config).holdout
    champion = load_model(config, config.name, "1")
    features = ["x1", "x2", "colour"]
    expected_score = roc_auc_score(holdout["label"], champion.predict_proba(holdout[features])[:, 1])
    assert decision["champion_score"] == pytest.approx(expected_score, abs=1e-6)  # scores are kept to 6 places
    # the gate's rules (floor 0.6, no regression allowed, no minimum improvement) decide the status
    should_promote = decision["candidate_score"] >= max(0.6, decision["champion_score"])
    assert decision["promote"] is should_promote
    assert outcome["status"] == ("promoted" if should_promote else "rejected")
    assert json.dumps(outcome)  # the outcome is plain JSON for CI
