"""The SQLite view answers the registry reads exactly as MLflow's client does, or delegates."""

from __future__ import annotations

import sqlite3

import pytest

from registry.promotion import move_champion
from registry.sqlite_view import RegistryView, registry_reader
from registry.versions import get_version, model_exists, model_status


@pytest.fixture
def two_versions(register, mlflow_client, registry_config, other_model, monkeypatch):
    monkeypatch.setenv("RETRAIN_ACTOR", "tester")
    register()
    register(model=other_model)
    move_champion(registry_config, mlflow_client, registry_config.name, "1", "promote", "test")
    return registry_config


def test_reads_match_the_client(two_versions, mlflow_client):
    name, view = two_versions.name, RegistryView(two_versions.tracking_uri)

    assert view.get_registered_model(name).aliases == dict(mlflow_client.get_registered_model(name).aliases)
    for number in ("1", "2"):
        mine, theirs = view.get_model_version(name, number), mlflow_client.get_model_version(name, number)
        assert (mine.tags, sorted(mine.aliases), mine.status, mine.run_id, mine.source) == (
            theirs.tags,
            sorted(theirs.aliases),
            theirs.status,
            theirs.run_id,
            theirs.source,
        )
        assert view.get_model_version_download_uri(name, number) == mlflow_client.get_model_version_download_uri(
            name, number
        )
    listed = view.search_model_versions(f"name = '{name}'", max_results=1000)
    assert sorted(int(v.version) for v in listed) == [1, 2] and listed.token is None
    assert model_status(view, name).to_dict() == model_status(mlflow_client, name).to_dict()


def test_missing_model_and_version_look_like_mlflow_errors(two_versions):
    view = RegistryView(two_versions.tracking_uri)

    assert not model_exists(view, "no-such-model")
    assert get_version(view, two_versions.name, "9") is None
    assert get_version(view, two_versions.name, "challenger").version == "2"


def test_writes_go_to_a_real_client(two_versions, mlflow_client):
    view = RegistryView(two_versions.tracking_uri)
    view.set_model_version_tag(two_versions.name, "2", "note", "written through the view")

    assert mlflow_client.get_model_version(two_versions.name, "2").tags["note"] == "written through the view"
    assert view.get_model_version(two_versions.name, "2").tags["note"] == "written through the view"


def test_a_file_without_the_tables_falls_back_to_the_client(tmp_path):
    empty = tmp_path / "other.db"
    sqlite3.connect(empty).close()
    view = registry_reader(f"sqlite:///{empty}")

    assert isinstance(view, RegistryView)
    assert not model_exists(view, "anything")  # MLflow's client created the tables and answered


def test_only_an_existing_sqlite_file_gets_a_view(tmp_path):
    from mlflow import MlflowClient

    assert isinstance(registry_reader(f"sqlite:///{tmp_path / 'missing.db'}"), MlflowClient)
