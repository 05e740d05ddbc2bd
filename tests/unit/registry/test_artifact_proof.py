"""A version is proven loadable once, at registration; rollback and status check its digest.

The light commands must not import scikit-learn, skops, Prefect, GX or Evidently, so they
run here in a fresh process that prints which of those it loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
from typer.testing import CliRunner

from base.exitcodes import Exit
from registry.artifacts import DIGEST_TAG, LOADED_TAG, digest_directory
from registry.champion import verify_target
from registry.promotion import move_champion
from registry.promotion_types import TargetUnavailable

HEAVY = ("sklearn", "skops", "prefect", "great_expectations", "evidently")
IN_PROCESS = """
import json, sys
from typer.testing import CliRunner
from retrain.cli import app
result = CliRunner().invoke(app, sys.argv[1:])
heavy = [m for m in {heavy!r} if m in sys.modules]
print(json.dumps({{"exit": result.exit_code, "heavy": heavy, "mlflow": "mlflow" in sys.modules,
                  "output": result.output}}))
"""


def _model_dir(client, name: str, version: str) -> Path:
    return Path(urlparse(client.get_model_version_download_uri(name, version)).path)


@pytest.fixture
def champions(register, mlflow_client, registry_config, other_model, monkeypatch):
    """Two registered versions, v1 then v2 promoted through the ledger; v2 is champion."""
    monkeypatch.setenv("RETRAIN_ACTOR", "tester")
    register()
    register(model=other_model)
    for version in ("1", "2"):
        move_champion(registry_config, mlflow_client, registry_config.name, version, "promote", "test")
    return registry_config


def _cli(config, *args: str, child_env, ok: bool = True) -> dict:
    """Run ``retrain ARGS --home HOME --json`` in a fresh interpreter; its exit code and heavy modules."""
    argv = [*args, "--home", str(config.home), "--json"]
    code = IN_PROCESS.format(heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        timeout=300,
        env=child_env(RETRAIN_ACTOR="tester"),
    )
    assert done.returncode == 0 or not ok, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_registration_records_the_load_and_the_digest(register, mlflow_client, registry_config):
    version = register()
    folder = _model_dir(mlflow_client, registry_config.name, version.version)

    assert version.tags[LOADED_TAG] == "ok"
    assert version.tags[DIGEST_TAG] == digest_directory(folder)
    found = verify_target(registry_config, mlflow_client, registry_config.name, version.version)
    assert str(found.version) == version.version


def test_digest_changes_with_content_and_with_names(tmp_path):
    (tmp_path / "a").write_text("one")
    (tmp_path / "b").write_text("two")
    first = digest_directory(tmp_path)
    (tmp_path / "b").write_text("twO")
    changed = digest_directory(tmp_path)
    (tmp_path / "b").rename(tmp_path / "c")
    renamed = digest_directory(tmp_path)

    assert len({first, changed, renamed}) == 3


def test_a_tampered_version_is_refused(register, mlflow_client, registry_config):
    version = register()
    folder = _model_dir(mlflow_client, registry_config.name, version.version)
    with (folder / "MLmodel").open("a") as handle:
        handle.write("# edited after registration\n")

    with pytest.raises(TargetUnavailable, match="changed since registration"):
        verify_target(registry_config, mlflow_client, registry_config.name, version.version)


def test_a_version_whose_files_are_gone_is_refused(register, mlflow_client, registry_config):
    import shutil

    version = register()
    shutil.rmtree(_model_dir(mlflow_client, registry_config.name, version.version))

    with pytest.raises(TargetUnavailable, match="missing"):
        verify_target(registry_config, mlflow_client, registry_config.name, version.version)


def test_rollback_to_a_tampered_version_exits_7_and_keeps_the_champion(champions, mlflow_client, monkeypatch):
    from retrain.cli import app

    model_file = next(p for p in _model_dir(mlflow_client, champions.name, "1").iterdir() if p.suffix == ".skops")
    model_file.write_bytes(model_file.read_bytes() + b"\0")
    monkeypatch.delenv("RETRAIN_HOME", raising=False)

    result = CliRunner().invoke(app, ["rollback", champions.name, "--home", str(champions.home), "--json"])

    assert result.exit_code == Exit.TARGET_UNAVAILABLE == 7, result.output
    assert "changed since registration" in json.loads(result.stdout)["error"]["message"]
    assert mlflow_client.get_registered_model(champions.name).aliases["champion"] == 2


def test_status_and_rollback_import_no_heavy_library(champions, child_env):
    status = _cli(champions, "status", champions.name, child_env=child_env)
    rolled = _cli(champions, "rollback", champions.name, "--reason", "test", child_env=child_env)

    assert status["exit"] == 0 and json.loads(status["output"])["warnings"] == [], status["output"]
    assert rolled["exit"] == 0, rolled["output"]
    assert json.loads(rolled["output"])["to_version"] == "1"
    assert status["heavy"] == [] and rolled["heavy"] == []
    assert not status["mlflow"]  # the embedded store's reads need no MLflow import at all


def test_status_warns_about_a_tampered_champion_without_loading_it(champions, mlflow_client, child_env):
    with (_model_dir(mlflow_client, champions.name, "2") / "MLmodel").open("a") as handle:
        handle.write("# edited\n")

    status = _cli(champions, "status", champions.name, child_env=child_env)

    warnings = json.loads(status["output"])["warnings"]
    assert any("does not load" in w and "changed since registration" in w for w in warnings), warnings
    assert status["heavy"] == []


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["history"], Exit.OK),
        (["release"], Exit.OK),
        (["promote", "1", "--reason", "test"], Exit.OK),
        (["reject"], Exit.USAGE),
    ],
)  # nothing waits for approval
def test_other_person_commands_import_no_heavy_library(champions, child_env, args, code):
    done = _cli(champions, args[0], champions.name, *args[1:], child_env=child_env, ok=False)

    assert done["exit"] == code, done["output"]
    assert done["heavy"] == [], (args, done["heavy"])
