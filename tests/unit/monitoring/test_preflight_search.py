"""A search's candidates are checked with the config, before anything runs."""

from __future__ import annotations

import pytest

from base.settings import ModelConfig
from base.settings_checks import ConfigError
from monitoring.preflight import check_references


def config_with(tmp_path, candidates: list[dict]) -> ModelConfig:
    (tmp_path / "suite.json").write_text('{"name": "s", "expectations": []}')
    config = ModelConfig.model_validate(
        {
            "name": "m",
            "task": "binary",
            "data": {"path": str(tmp_path / "*.csv"), "timestamp_column": "ts", "target_column": "y"},
            "validation": {"suite": str(tmp_path / "suite.json")},
            "state": {"home": str(tmp_path / "home")},
            "search": {"candidates": candidates},
        }
    )
    config.config_path = tmp_path / "m.yaml"
    return config


@pytest.mark.parametrize(
    ("candidate", "field", "words"),
    [
        ({"class_path": "sklearn.linear_model.Ridge"}, "search.candidates[1].class_path", "needs a classifier"),
        ({"class_path": "nowhere.Model"}, "search.candidates[1].class_path", "cannot be imported"),
    ],
)
def test_a_candidate_that_cannot_serve_the_task_is_a_config_error(tmp_path, candidate, field, words):
    ok = {"class_path": "sklearn.linear_model.LogisticRegression", "params": {"C": {"low": 0.1, "high": 1.0}}}
    with pytest.raises(ConfigError) as info:
        check_references(config_with(tmp_path, [ok, candidate]))
    assert field in str(info.value) and words in str(info.value)
