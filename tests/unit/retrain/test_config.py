"""Config errors name the file, the field and what was expected; env vars override state."""

from __future__ import annotations

import pytest
import yaml

from base.settings import ConfigError, load_config

BASE = {
    "name": "m",
    "task": "binary",
    "data": {"path": "b/*.csv", "timestamp_column": "ts", "target_column": "y"},
    "validation": {"suite": "m.suite.json"},
}


def write(tmp_path, data, name="m.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data) if isinstance(data, dict) else data)
    return path


def test_valid_config_resolves_paths_against_its_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("RETRAIN_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    config = load_config(write(tmp_path, BASE))
    assert config.suite_path == tmp_path / "m.suite.json"
    assert config.data_glob == str(tmp_path / "b/*.csv")
    assert config.home == tmp_path / ".retrain"
    assert config.tracking_uri == f"sqlite:///{tmp_path / '.retrain' / 'mlflow.db'}"
    assert config.primary_metric == "roc_auc"


def test_env_overrides_state(tmp_path, monkeypatch):
    monkeypatch.setenv("RETRAIN_HOME", str(tmp_path / "h"))
    monkeypatch.setenv("RETRAIN_LEDGER_URL", "postgresql+psycopg://root@127.0.0.1/test")
    config = load_config(write(tmp_path, BASE))
    assert config.home == tmp_path / "h"
    assert config.ledger_url.startswith("postgresql")


@pytest.mark.parametrize(
    "mutate, field, words",
    [
        (lambda d: d.pop("task"), "task", "missing"),
        (lambda d: d.update(task="ranking"), "task", "binary"),
        (lambda d: d["data"].update(timestmp="ts"), "data.timestmp", "unknown setting"),
        (lambda d: d.update(window={"holdout_days": -3}), "window.holdout_days", "greater than 0"),
        (lambda d: d.update(estimator={"class_path": "forest"}), "estimator.class_path", "import path"),
        (
            lambda d: d.update(search={"candidates": [{"class_path": "a.B", "params": {"C": {"low": 2, "high": 1}}}]}),
            "search.candidates.0.params",
            "low <= high",
        ),
        (lambda d: d.update(search={"candidates": []}), "search.candidates", "at least 1"),
        (lambda d: d.update(gate={"primary_metric": "rmse"}), "(top level)", "not a binary metric"),
        (lambda d: d["validation"].update(bounds={"pct": [100, 0]}), "validation.bounds", "low <= high"),
        (lambda d: d["validation"].update(bounds={"pct": [None, None]}), "validation.bounds", "at least one end"),
        (lambda d: d["validation"].update(bounds={"pct": [0]}), "validation.bounds.pct", "required"),
    ],
)
def test_errors_name_file_field_and_expectation(tmp_path, mutate, field, words):
    data = yaml.safe_load(yaml.safe_dump(BASE))
    mutate(data)
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert str(path) in text
    assert field in text or field == "(top level)"
    assert words in text


def test_broken_yaml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="line"):
        load_config(write(tmp_path, "name: [unclosed"))
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "absent.yaml")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(write(tmp_path, "- a\n- b\n"))


def test_store_urls_prefer_explicit_then_env_then_home(tmp_path, monkeypatch):
    from base.settings import store_urls

    for var in ("RETRAIN_HOME", "RETRAIN_TRACKING_URI", "RETRAIN_LEDGER_URL"):
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / "h"
    assert store_urls(str(home)) == (f"sqlite:///{home / 'mlflow.db'}", f"sqlite:///{home / 'ledger.db'}")
    monkeypatch.setenv("RETRAIN_TRACKING_URI", "sqlite:///env.db")
    assert store_urls(str(home))[0] == "sqlite:///env.db"
    assert store_urls(str(home), tracking_uri="sqlite:///x.db", ledger_url="sqlite:///y.db") == (
        "sqlite:///x.db",
        "sqlite:///y.db",
    )
