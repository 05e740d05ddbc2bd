"""registry.store: one explicit store per home, nothing written where the process starts."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

from registry.store import client_for, connect, experiment_id, experiment_name, monitoring_experiment


def _local_path(uri: str) -> Path:
    return Path(urlparse(uri).path)


def test_first_connect_creates_home_database_and_experiment(registry_config, mlflow_globals, caplog):
    home = registry_config.home
    assert not home.exists()

    with caplog.at_level(logging.INFO):
        client = connect(registry_config)
    experiment = client.get_experiment_by_name("retrain/late-flights")

    assert (home / "mlflow.db").is_file()
    assert client.tracking_uri == f"sqlite:///{home / 'mlflow.db'}"
    assert experiment.artifact_location.startswith("file://")
    assert _local_path(experiment.artifact_location) == home / "artifacts" / "late-flights"
    assert not [r for r in caplog.records if r.name.startswith("alembic")], "migrations stay quiet"


def test_connect_twice_reuses_the_experiment(registry_config, mlflow_client):
    first = experiment_id(mlflow_client, registry_config.name)
    again = connect(registry_config)

    assert experiment_id(again, registry_config.name) == first
    assert len(again.search_experiments(filter_string="name LIKE 'retrain/%'")) == 1


def test_connect_restores_a_deleted_experiment(registry_config, mlflow_client):
    deleted = experiment_id(mlflow_client, registry_config.name)
    mlflow_client.delete_experiment(deleted)

    client = connect(registry_config)

    assert client.get_experiment(deleted).lifecycle_stage == "active"


def test_nothing_lands_in_the_working_directory(tmp_path, monkeypatch, registry_config, register):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    version = register()

    assert list(elsewhere.iterdir()) == []
    artifacts = registry_config.home / "artifacts" / registry_config.name
    assert any(artifacts.rglob("MLmodel")), "model files belong under the home"
    assert (artifacts / version.run_id / "artifacts" / "lineage.json").is_file()


def test_tracking_uri_from_the_environment_wins(
    tmp_path, monkeypatch, registry_config, mlflow_client, migrated_mlflow_db
):
    other = tmp_path / "other" / "store.db"
    other.parent.mkdir()
    shutil.copy(migrated_mlflow_db, other)
    monkeypatch.setenv("RETRAIN_TRACKING_URI", f"sqlite:///{other}")

    client = connect(registry_config)

    assert client.tracking_uri == f"sqlite:///{other}"
    assert client.get_experiment_by_name(experiment_name(registry_config.name)) is not None


def test_monitoring_experiment_is_separate_and_stable(registry_config, mlflow_client):
    first = monitoring_experiment(mlflow_client, registry_config)
    second = monitoring_experiment(mlflow_client, registry_config)
    experiment = mlflow_client.get_experiment(first)

    assert first == second
    assert first != experiment_id(mlflow_client, registry_config.name)
    assert experiment.name == "retrain/late-flights/monitoring"
    expected = registry_config.home / "artifacts" / "late-flights" / "monitoring"
    assert _local_path(experiment.artifact_location) == expected


def test_experiment_id_of_an_unknown_model_names_it(mlflow_client):
    with pytest.raises(LookupError, match="retrain/no-such-model"):
        experiment_id(mlflow_client, "no-such-model")


def test_client_for_reads_the_same_store_without_touching_globals(registry_config, register):
    import mlflow

    version = register()
    mlflow.set_tracking_uri("sqlite:///unrelated-and-never-opened.db")

    client = client_for(registry_config.tracking_uri)

    assert client.get_model_version(registry_config.name, version.version).run_id == version.run_id
    assert mlflow.get_tracking_uri() == "sqlite:///unrelated-and-never-opened.db"
