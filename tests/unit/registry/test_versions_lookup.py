"""registry.versions lookups: versions by number or alias, model status for the CLI."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from registry.versions import get_version, model_exists, model_status


@pytest.fixture
def two_versions(register):
    return register(), register()


def test_get_version_by_number_and_alias(mlflow_client, registry_config, two_versions):
    first, second = two_versions
    name = registry_config.name

    assert get_version(mlflow_client, name, 1) == replace(first, aliases=())  # challenger moved on
    assert get_version(mlflow_client, name, "2") == second
    assert get_version(mlflow_client, name, "challenger") == second


def test_get_version_of_something_missing_is_none(mlflow_client, registry_config, two_versions):
    name = registry_config.name

    assert get_version(mlflow_client, "no-such-model", "1") is None
    assert get_version(mlflow_client, "no-such-model", "challenger") is None
    assert get_version(mlflow_client, name, "7") is None
    assert get_version(mlflow_client, name, "champion") is None


def test_model_exists_only_after_registration(mlflow_client, registry_config, register):
    assert not model_exists(mlflow_client, registry_config.name)
    register()
    assert model_exists(mlflow_client, registry_config.name)


def test_status_of_an_unregistered_model_is_empty(mlflow_client):
    status = model_status(mlflow_client, "no-such-model")

    assert (status.champion, status.challenger, status.versions, status.latest_version) == (None, None, 0, None)


def test_status_without_a_champion(mlflow_client, registry_config, two_versions):
    status = model_status(mlflow_client, registry_config.name)

    assert status.champion is None
    assert status.challenger == two_versions[1]
    assert (status.versions, status.latest_version) == (2, "2")


def test_status_with_a_champion(mlflow_client, registry_config, two_versions):
    mlflow_client.set_registered_model_alias(registry_config.name, "champion", "1")

    status = model_status(mlflow_client, registry_config.name)

    assert status.champion.version == "1"
    assert status.champion.aliases == ("champion",)
    assert status.challenger.version == "2"
    assert status.versions == 2


def test_status_serialises_to_json(mlflow_client, registry_config, two_versions):
    mlflow_client.set_registered_model_alias(registry_config.name, "champion", "2")

    payload = json.loads(json.dumps(model_status(mlflow_client, registry_config.name).to_dict()))

    assert payload["champion"]["aliases"] == ["challenger", "champion"]  # an alias set outside a promotion
    assert payload["champion"]["metrics"] == two_versions[1].metrics
    assert payload["challenger"] is None  # status never shows the champion as challenger too
    assert payload["latest_version"] == "2"
