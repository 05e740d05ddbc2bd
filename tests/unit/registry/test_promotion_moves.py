"""Promote, roll back and reconcile through the ledger against a real MLflow registry.

One MLflow store per module (creating one costs seconds); each test registers its own
model, whose version k always predicts k, so a prediction names the version that made it.
"""

from __future__ import annotations

import shutil
import uuid

import numpy as np
import pytest

from base.errors import Kind
from registry.champion import read_champion
from registry.ledger import Stores, open_ledger
from registry.moves import reconcile
from registry.promotion import history, move_champion, promote, rollback
from registry.promotion_types import ExpectationMismatch, NothingToRollBack, TargetUnavailable, UnknownModel

X = np.zeros((3, 1))


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """A real MLflow SQLite store, a client on it, and a helper registering versions."""
    from mlflow import MlflowClient

    root = tmp_path_factory.mktemp("promotion")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.create_experiment("ledger-tests", artifact_location=str(root / "artifacts"))

    def add_model(versions: int) -> str:
        import mlflow
        from sklearn.dummy import DummyRegressor

        name = f"m-{uuid.uuid4().hex[:8]}"
        client.create_registered_model(name)
        for k in range(1, versions + 1):
            path = root / name / f"v{k}"
            model = DummyRegressor(strategy="constant", constant=float(k)).fit(X, np.zeros(3))
            mlflow.sklearn.save_model(model, str(path), pip_requirements=["scikit-learn"])
            run = client.create_run(experiment)
            client.log_metric(run.info.run_id, "roc_auc", k / 10)
            client.create_model_version(name, str(path), run_id=run.info.run_id)
        return name

    return root, uri, client, add_model


@pytest.fixture
def env(registry, tmp_path, monkeypatch):
    """Stores with a fresh ledger, the client, a new model of 4 versions, a predictor."""
    import mlflow

    _root, uri, client, add_model = registry
    monkeypatch.setenv("RETRAIN_ACTOR", "oncall@test")
    for var in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        monkeypatch.setenv(var, uri)  # recorded, so teardown restores the originals
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)

    def predict(name: str, ref: str) -> list[float]:
        sep = "@" if ref == "champion" else "/"
        return mlflow.pyfunc.load_model(f"models:/{name}{sep}{ref}").predict(X).tolist()

    stores = Stores(uri, f"sqlite:///{tmp_path / 'ledger.db'}")
    yield stores, client, add_model(4), predict
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)


def _promote_all(stores, client, name, versions):
    for v in versions:
        move_champion(
            stores,
            client,
            name,
            v,
            "promote",
            f"gate passed v{v}",
            run_id=f"run-{v}",
            metrics={"roc_auc": 0.7 + int(v) / 100},
        )


def test_rollback_restores_previous_champion_and_walks_back(env):
    stores, client, name, predict = env
    _promote_all(stores, client, name, ["1", "2", "3"])
    first = rollback(stores, client, name, reason="bad predictions")
    assert (first.from_version, first.to_version, first.changed) == ("3", "2", True)
    assert predict(name, "champion") == predict(name, "2") == [2.0, 2.0, 2.0]
    assert rollback(stores, client, name).to_version == "1"
    assert predict(name, "champion") == predict(name, "1")
    entries_before = len(history(stores, name))
    with pytest.raises(NothingToRollBack) as err:
        rollback(stores, client, name)
    assert err.value.kind == Kind.NOTHING_TO_ROLL_BACK
    assert read_champion(client, name) == "1" and len(history(stores, name)) == entries_before


def test_rollback_after_a_new_promotion_returns_to_the_restored_version(env):
    stores, client, name, _ = env
    _promote_all(stores, client, name, ["1", "2"])
    rollback(stores, client, name)
    promote(stores, client, name, "3", reason="hotfix model")
    result = rollback(stores, client, name)
    assert (result.from_version, result.to_version) == ("3", "1")


def test_explicit_target_and_a_target_already_champion(env):
    stores, client, name, predict = env
    _promote_all(stores, client, name, ["1", "2", "3"])
    assert rollback(stores, client, name, to=1).to_version == "1"
    assert predict(name, "champion") == [1.0, 1.0, 1.0]
    count = len(history(stores, name))
    same = rollback(stores, client, name, to="1")
    assert same.changed is False and same.entry_id is None and len(history(stores, name)) == count


def test_expect_current_mismatch_refuses_and_changes_nothing(env):
    stores, client, name, _ = env
    _promote_all(stores, client, name, ["1", "2"])
    before = [e.to_dict() for e in history(stores, name)]
    tags_before = client.get_model_version(name, "1").tags
    with pytest.raises(ExpectationMismatch) as err:
        rollback(stores, client, name, expect_current="1")
    assert err.value.kind == Kind.EXPECTATION_MISMATCH and "is 2, not 1" in str(err.value)
    assert read_champion(client, name) == "2"
    assert [e.to_dict() for e in history(stores, name)] == before
    assert client.get_model_version(name, "1").tags == tags_before
    assert rollback(stores, client, name, expect_current="2").to_version == "1"


def test_unknown_model_missing_and_unloadable_targets(env, registry):
    stores, client, name, _ = env
    with pytest.raises(UnknownModel) as unknown:
        rollback(stores, client, "no-such-model")
    assert unknown.value.kind == Kind.UNKNOWN_MODEL
    _promote_all(stores, client, name, ["1", "2"])
    with pytest.raises(TargetUnavailable, match="does not exist") as missing:
        rollback(stores, client, name, to="99")
    assert missing.value.kind == Kind.TARGET_UNAVAILABLE
    shutil.rmtree(registry[0] / name / "v1")  # the previous champion's artifacts are gone
    with pytest.raises(TargetUnavailable, match="does not load"):
        rollback(stores, client, name)
    with pytest.raises(TargetUnavailable, match="does not exist"):
        promote(stores, client, name, "abc", reason="typo")
    assert read_champion(client, name) == "2"
    assert [e.status for e in history(stores, name)] == ["applied", "applied"]


def test_rollback_tags_both_versions(env):
    stores, client, name, _ = env
    _promote_all(stores, client, name, ["1", "2"])
    result = rollback(stores, client, name, reason="latency")
    restored = client.get_model_version(name, "1").tags
    demoted = client.get_model_version(name, "2").tags
    assert restored["retrain.rolled_back_from"] == "2"
    assert restored["retrain.promotion_action"] == "rollback"
    assert restored["retrain.promoted_at"] == demoted["retrain.rolled_back_at"]
    assert result.entry_id == history(stores, name)[-1].id
    assert demoted["retrain.rolled_back_to"] == "1"
    assert demoted["retrain.rolled_back_by"] == "oncall@test"
    assert "retrain.rolled_back_at" in demoted


def test_history_records_actor_reason_and_metrics(env):
    stores, client, name, _ = env
    _promote_all(stores, client, name, ["1", "2"])
    rollback(stores, client, name, reason="drift alarm")
    promote(stores, client, name, "4", reason="picked by hand")
    entries = history(stores, name)
    assert [(e.action, e.from_version, e.to_version) for e in entries] == [
        ("promote", None, "1"),
        ("promote", "1", "2"),
        ("rollback", "2", "1"),
        ("manual_promote", "1", "4"),
    ]
    assert {e.actor for e in entries} == {"oncall@test"}
    assert entries[1].run_id == "run-2" and entries[2].reason == "drift alarm"
    assert entries[2].metrics == entries[0].metrics == {"roc_auc": pytest.approx(0.71)}
    assert entries[3].metrics == {"roc_auc": pytest.approx(0.4)}  # never promoted: its run's metrics
    assert all(e.status == "applied" and e.applied_at is not None for e in entries)


def test_reconcile_marks_what_mlflow_shows(env):
    stores, client, name, _ = env
    _promote_all(stores, client, name, ["1", "2"])
    ledger = open_ledger(stores.ledger_url)
    never = ledger.write_intent(name, "2", "3", "promote", None, "x", None, None)  # died before the alias
    [note] = reconcile(stores, client, name)
    assert (note.entry_id, note.outcome) == (never.id, "failed") and "never took effect" in note.message
    took = ledger.write_intent(name, "2", "3", "rollback", None, "x", None, None)
    client.set_registered_model_alias(name, "champion", "3")  # died after the alias
    [note] = reconcile(stores, client, name)
    assert (note.entry_id, note.outcome) == (took.id, "applied")
    assert client.get_model_version(name, "3").tags["retrain.rolled_back_from"] == "2"
    assert reconcile(stores, client, name) == []
    assert [e.status for e in history(stores, name)] == ["applied", "applied", "failed", "applied"]


def test_champion_moved_outside_the_ledger_rolls_back_to_the_last_recorded(env):
    stores, client, name, _ = env
    _promote_all(stores, client, name, ["1", "2"])
    client.set_registered_model_alias(name, "champion", "4")
    result = rollback(stores, client, name)
    assert (result.from_version, result.to_version) == ("4", "2")


def test_moves_open_their_own_client_when_given_none(env):
    stores, client, name, _ = env
    result = promote(stores, None, name, 2, reason="first by hand", expect_current="none")
    assert result.to_dict()["to_version"] == "2" and read_champion(client, name) == "2"


def test_challenger_alias_never_names_the_champion(env):
    from registry.versions import model_status

    stores, client, name, _ = env
    _promote_all(stores, client, name, ["1"])
    client.set_registered_model_alias(name, "challenger", "2")  # registration aliases each candidate
    move_champion(stores, client, name, "2", "promote", "gate passed v2")
    assert "challenger" not in client.get_registered_model(name).aliases
    client.set_registered_model_alias(name, "challenger", "3")  # a rejected candidate keeps it
    move_champion(stores, client, name, "1", "manual_promote", "back to v1")
    assert str(client.get_registered_model(name).aliases["challenger"]) == "3"
    client.set_registered_model_alias(name, "challenger", "1")  # set by hand onto the champion
    status = model_status(client, name)
    assert status.champion.version == "1" and status.challenger is None


def test_status_warns_when_the_last_gate_found_the_champion_below_the_floor(env):
    from registry.audit import floor_warning

    stores, client, name, _ = env
    _promote_all(stores, client, name, ["1"])
    for key, value in {
        "gate.champion_below_floor": "true",
        "gate.champion_version": "1",
        "gate.champion_score": "0.55",
    }.items():
        client.set_model_version_tag(name, "4", key, value)
    [warning] = floor_warning(client, name, "1", "4")
    assert "champion v1" in warning and "0.55" in warning and "below the gate's floor" in warning
    assert floor_warning(client, name, "2", "4") == []  # a verdict about an earlier champion is stale
    assert floor_warning(client, name, "1", "3") == []
