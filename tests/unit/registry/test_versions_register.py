"""registry.versions.register_candidate: every candidate becomes a traceable version."""

from __future__ import annotations

import json
from importlib.metadata import version as installed_version
from pathlib import Path

import numpy as np
import pytest

from registry.packaging import code_version
from registry.tag_values import KEY_LIMIT, PARAM_LIMIT, TAG_LIMIT
from registry.types import VersionNotFound
from registry.versions import get_version, load_model


def _model_dir(client, name: str, version: str) -> Path:
    """Local folder of a version's MLmodel; the store is a file URI under the home."""
    from urllib.parse import urlparse

    return Path(urlparse(client.get_model_version_download_uri(name, version)).path)


def test_versions_count_up_and_challenger_follows_the_newest(mlflow_client, register, registry_config):
    first = register()
    second = register(decision={"promote": False, "reasons": ["worse than champion", "below floor"]})
    name = registry_config.name

    assert (first.version, second.version) == ("1", "2")
    assert second.aliases == ("challenger",)
    assert get_version(mlflow_client, name, "1").aliases == ()
    assert get_version(mlflow_client, name, "challenger").version == "2"
    assert second.tags["gate.decision"] == "reject"
    assert second.tags["gate.reasons"] == "worse than champion; below floor"
    assert first.tags["gate.decision"] == "promote"


def test_version_tags_carry_lineage_metrics_and_params(register, tiny_frame):
    lineage = {
        "data_hash": "ab" * 32,
        "rows": len(tiny_frame),
        "train_window": {"start": "2013-01-01", "end": "2013-03-31"},
        "batch_files": ["2013-01.csv", "2013-02.csv"],
        "validation": {"batches": 2, "passed": 2},
    }
    metrics = {"roc_auc": np.float64(0.8125), "f1": 0.5, "log_loss": None}

    before = code_version()
    version = register(lineage=lineage, metrics=metrics)
    after = code_version()  # the checkout may be committed to meanwhile

    assert version.tags["data_hash"] == lineage["data_hash"]
    assert version.tags["rows"] == str(len(tiny_frame))
    assert json.loads(version.tags["train_window"]) == lineage["train_window"]
    assert json.loads(version.tags["batch_files"]) == lineage["batch_files"]
    assert json.loads(version.tags["validation"]) == lineage["validation"]
    assert version.tags["code_version"] in {before, after}
    assert version.metrics == {"roc_auc": 0.8125, "f1": 0.5}
    assert not [key for key in version.tags if key.startswith("metric.")]  # stored once, on the run
    assert json.loads(version.tags["params"]) == {"estimator.max_iter": "15"}


def test_run_holds_params_metrics_and_json_artifacts(mlflow_client, register, registry_config):
    import mlflow

    decision = {"promote": True, "reasons": ["beats champion"], "candidate_score": np.float64(0.9)}
    version = register(params={"estimator": {"max_iter": 15, "class_weight": None}}, decision=decision)
    run = mlflow_client.get_run(version.run_id)
    experiment = mlflow_client.get_experiment(run.info.experiment_id)

    assert experiment.name == f"retrain/{registry_config.name}"
    assert run.data.params == {"estimator.max_iter": "15", "estimator.class_weight": "null"}
    assert run.data.metrics["roc_auc"] == pytest.approx(0.81)
    assert run.data.tags["data_hash"] == "f" * 64
    lineage = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/lineage.json")
    assert lineage["batch_files"] == ["2013-01.csv"]
    saved = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/decision.json")
    assert saved == {"promote": True, "reasons": ["beats champion"], "candidate_score": 0.9}


def test_long_values_are_cut_to_mlflow_limits(mlflow_client, register):
    version = register(
        lineage={"data_hash": "x" * (TAG_LIMIT + 500), "odd key [1]": "kept"},
        params={"grid": "y" * (PARAM_LIMIT + 500), "k" * (KEY_LIMIT + 20): 1},
        decision={"promote": False, "reasons": ["z" * 3000] * 4},
    )
    params = mlflow_client.get_run(version.run_id).data.params

    assert len(version.tags["data_hash"]) == TAG_LIMIT
    assert version.tags["odd key _1_"] == "kept"
    assert len(version.tags["gate.reasons"]) == TAG_LIMIT
    assert len(params["grid"]) == PARAM_LIMIT
    assert params["k" * KEY_LIMIT] == "1"


def test_without_a_decision_there_are_no_gate_tags(register):
    version = register(decision=None, params=None, metrics={"roc_auc": None})

    assert not [key for key in version.tags if key.startswith("gate.")]
    assert version.metrics == {}


def test_a_given_code_version_is_kept(register):
    version = register(lineage={"data_hash": "0" * 64, "code_version": "release-1.4"})

    assert version.tags["code_version"] == "release-1.4"


def test_logged_model_has_signature_and_pinned_requirements(mlflow_client, register, registry_config, features):
    from mlflow.models import get_model_info

    version = register()
    info = get_model_info(f"models:/{registry_config.name}/{version.version}")
    inputs = {spec.name: str(spec.type) for spec in info.signature.inputs.inputs}
    requirements = (_model_dir(mlflow_client, registry_config.name, version.version) / "requirements.txt").read_text()

    assert list(inputs) == features
    assert inputs["hour"].lower().endswith("double"), "integer features are declared as doubles"
    assert info.signature.outputs is not None
    for package in ("scikit-learn", "pandas", "numpy", "mlflow"):
        assert f"{package}=={installed_version(package)}" in requirements.splitlines()


def test_loaded_versions_predict_like_the_originals(
    mlflow_client, register, registry_config, tiny_model, other_model, tiny_frame, features
):
    register(model=tiny_model)
    register(model=other_model)
    X = tiny_frame[features]

    by_number = load_model(mlflow_client, registry_config.name, 1)
    by_alias = load_model(mlflow_client, registry_config.name, "challenger")

    np.testing.assert_array_equal(by_number.predict_proba(X), tiny_model.predict_proba(X))
    np.testing.assert_array_equal(by_alias.predict_proba(X), other_model.predict_proba(X))


def test_load_model_uses_the_given_store_not_the_global_one(
    tmp_path, register, registry_config, tiny_model, tiny_frame, features
):
    import mlflow

    register()
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'unrelated.db'}")
    mlflow.set_registry_uri(f"sqlite:///{tmp_path / 'unrelated.db'}")
    X = tiny_frame[features]

    from_config = load_model(registry_config, registry_config.name, "challenger")
    from_uri = load_model(registry_config.tracking_uri, registry_config.name, "1")

    np.testing.assert_array_equal(from_config.predict_proba(X), tiny_model.predict_proba(X))
    np.testing.assert_array_equal(from_uri.predict_proba(X), tiny_model.predict_proba(X))


def test_load_model_of_a_missing_alias_says_what_is_missing(mlflow_client, register, registry_config):
    register()

    with pytest.raises(VersionNotFound, match="champion"):
        load_model(mlflow_client, registry_config.name, "champion")
    with pytest.raises(VersionNotFound, match="no-such-model"):
        load_model(mlflow_client, "no-such-model", "1")


def test_metrics_are_read_from_the_run_and_old_metric_tags_still_count(mlflow_client, register, registry_config):
    from registry.sqlite_view import RegistryView

    version = register(metrics={"roc_auc": 0.75, "f1": 0.5})
    name = registry_config.name
    run_metrics = mlflow_client.get_run(version.run_id).data.metrics
    assert run_metrics["roc_auc"] == 0.75 and version.metrics == run_metrics

    view = RegistryView(registry_config.tracking_uri)  # the fast reader of `status` and `rollback`
    assert get_version(view, name, version.version).metrics == run_metrics

    mlflow_client.set_model_version_tag(name, version.version, "metric.roc_auc", "0.5")  # as versions before carry
    assert get_version(mlflow_client, name, version.version).metrics == {"roc_auc": 0.5}
