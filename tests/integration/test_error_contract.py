"""Every documented exit code a CLI call can produce, and every broken input and store fault
of issue 8, through a real ``retrain`` process: the exit code, one JSON error object naming
the file and field, no traceback, nothing registered, the champion unmoved, nothing written
outside the home.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml

from base.exitcodes import Exit

PG_DOWN = "postgresql+psycopg://postgres@127.0.0.1:1/nope"
TEST_PG = os.environ.get("RETRAIN_TEST_PG") or "127.0.0.1:5432"  # the throwaway cluster `make test` starts


@dataclass
class Answer:
    code: int
    stdout: str
    stderr: str

    @property
    def data(self) -> dict:
        return json.loads(self.stdout)

    @property
    def error(self) -> dict:
        return self.data["error"]


@pytest.fixture(scope="module")
def cli(child_env):
    """``cli(*args, cwd=...)`` runs ``python -m retrain.cli`` against the session's Prefect server."""
    from prefect.settings import PREFECT_API_URL

    env = child_env(PREFECT_API_URL=str(PREFECT_API_URL.value()))
    for var in ("RETRAIN_HOME", "RETRAIN_TRACKING_URI", "RETRAIN_LEDGER_URL", "RETRAIN_DEBUG"):
        env.pop(var, None)

    def run(*args: str, cwd: Path | None = None) -> Answer:
        done = subprocess.run(
            [sys.executable, "-m", "retrain.cli", *map(str, args)],
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd,
            timeout=300,
        )
        answer = Answer(done.returncode, done.stdout, done.stderr)
        assert "Traceback" not in done.stdout + done.stderr, answer
        return answer

    return run


@pytest.fixture(scope="module")
def template(tmp_path_factory, synth):
    """Three good months and a suite proposed from them, copied into each case's folder."""
    from base.settings import load_config
    from monitoring.validation import propose_suite, write_suite

    root = tmp_path_factory.mktemp("template")
    (root / "batches").mkdir()
    for month in (1, 2, 3):
        synth.make_month(month).to_csv(root / "batches" / f"m{month:02d}.csv", index=False)
    config = load_config(synth.write_config(root))
    frames = pd.concat([synth.make_month(m) for m in (1, 2, 3)], ignore_index=True)
    write_suite(propose_suite(frames, config), config.suite_path)
    return root


def case_folder(template: Path, root: Path, **overrides) -> Path:
    """A copy of the template with its own home and a config changed by ``overrides``."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(template / "batches", root / "batches")
    shutil.copy(template / "synth.suite.json", root / "synth.suite.json")
    raw = yaml.safe_load((template / "synth.yaml").read_text())
    raw["state"] = {"home": str(root / "home")}
    for key, value in overrides.items():
        raw[key] = {**raw.get(key, {}), **value} if isinstance(value, dict) else value
    (root / "synth.yaml").write_text(yaml.safe_dump(raw))
    return root / "synth.yaml"


def files_outside_home(root: Path, home: Path | None = None) -> set[str]:
    """Everything under the case's parent folder but the home: must not change."""
    home = (home or root / "home").resolve()
    return {str(p) for p in root.parent.resolve().rglob("*") if not p.is_relative_to(home)}


def registered(home: Path) -> list[str]:
    from mlflow import MlflowClient

    if not (home / "mlflow.db").exists():
        return []
    client = MlflowClient(
        tracking_uri=f"sqlite:///{home / 'mlflow.db'}", registry_uri=f"sqlite:///{home / 'mlflow.db'}"
    )
    return [f"{v.name}/{v.version}" for v in client.search_model_versions()]


CONFIG_CASES = {
    "bad name": (dict(name="../../x"), [], "name", "letters, digits"),
    "missing suite": (dict(validation={"suite": "nowhere.suite.json"}), [], "validation.suite", "no suite file"),
    "broken suite json": (dict(validation={"suite": "broken.suite.json"}), [], "validation.suite", "not valid JSON"),
    "class_path missing": (
        dict(estimator={"class_path": "sklearn.nope.Nothing", "params": {}}),
        [],
        "estimator.class_path",
        "cannot be imported",
    ),
    "class_path not an estimator": (
        dict(estimator={"class_path": "collections.OrderedDict", "params": {}}),
        [],
        "estimator.class_path",
        "not a scikit-learn estimator",
    ),
    "regressor for binary": (
        dict(estimator={"class_path": "sklearn.linear_model.LinearRegression", "params": {}}),
        [],
        "estimator.class_path",
        "needs a classifier",
    ),
    "inverted positive_rate": (
        dict(constraints={"positive_rate": [0.9, 0.1]}),
        [],
        "constraints.positive_rate",
        "low <= high",
    ),
    "inverted prediction_range": (
        dict(constraints={"prediction_range": [3.0, 1.0]}),
        [],
        "constraints.prediction_range",
        "low <= high",
    ),
    "class share above 1": (
        dict(constraints={"class_shares": {"1": [0.2, 1.5]}}),
        [],
        "constraints.class_shares",
        "within [0, 1]",
    ),
    "bad anchor": (dict(schedule={"anchor": "not a date"}), [], "schedule.anchor", "ISO 8601"),
    "unparseable ledger_url": (dict(state={"ledger_url": "not a url"}), [], "state.ledger_url", "database URL"),
    "metric of another task": (dict(gate={"primary_metric": "rmse"}), [], "gate.primary_metric", "not a binary metric"),
    "validate with broken suite": (
        dict(validation={"suite": "broken.suite.json"}),
        ["validate"],
        "validation.suite",
        "not valid JSON",
    ),
}


@pytest.mark.integration
@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_config_reference_is_exit_2_before_anything_runs(case, cli, template, tmp_path):
    overrides, command, field, words = CONFIG_CASES[case]
    config = case_folder(template, tmp_path / "case", **overrides)
    (config.parent / "broken.suite.json").write_text('{"name": "synth", "expectations": [')
    before = files_outside_home(config.parent)
    args = ["validate", config, config.parent / "batches" / "m01.csv"] if command else ["run", config]

    answer = cli(*args, "--json")

    assert answer.code == Exit.USAGE, answer
    assert answer.data["exit_code"] == Exit.USAGE
    assert answer.error["kind"] == "config" and answer.error["file"] == str(config.resolve())
    assert answer.error["field"].startswith(field) and words in answer.error["message"], answer.error
    human = cli(*args)
    assert human.code == Exit.USAGE and field in human.stderr and str(config.resolve()) in human.stderr
    assert files_outside_home(config.parent) == before
    assert registered(config.parent / "home") == []
    assert not (config.parent / "home" / "prefect").exists(), "Prefect must not have started"


def _mount_tmpfs(folder: Path, options: str) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    return done.returncode == 0


@pytest.fixture
def full_disk(tmp_path):
    """A home on a 512 KiB tmpfs filled up; fails (never skips) where mounting is not allowed."""
    home = tmp_path / "full"
    if not _mount_tmpfs(home, "size=512k"):
        pytest.fail("mounting a tmpfs is not permitted here, so a full disk cannot be made: run as root (.ci/run does)")
    try:
        with open(home / "filler", "wb") as handle:
            while True:
                handle.write(b"\0" * 4096)
                handle.flush()
    except OSError:
        pass
    yield home
    subprocess.run(["umount", str(home)], check=False)


@pytest.fixture
def readonly_home(tmp_path):
    """A read-only tmpfs when mounting is allowed, else a home below a regular file (root writes anywhere)."""
    home = tmp_path / "ro"
    if _mount_tmpfs(home, "ro,size=64k"):
        yield home
        subprocess.run(["umount", str(home)], check=False)
        return
    (tmp_path / "a-file").write_text("not a folder")
    yield tmp_path / "a-file" / "home"


@pytest.mark.integration
@pytest.mark.parametrize("store", ["full disk", "read-only home", "unreachable PostgreSQL", "misnamed database"])
def test_store_fault_is_exit_13_and_changes_nothing(store, request, cli, template, tmp_path):
    state = {
        "full disk": lambda: {"home": str(request.getfixturevalue("full_disk"))},
        "read-only home": lambda: {"home": str(request.getfixturevalue("readonly_home"))},
        "unreachable PostgreSQL": lambda: {"ledger_url": PG_DOWN},
        "misnamed database": lambda: {"ledger_url": f"postgresql+psycopg://postgres@{TEST_PG}/no_such_db"},
    }[store]()
    config = case_folder(template, tmp_path / "case")
    raw = yaml.safe_load(config.read_text())
    raw["state"].update(state)
    config.write_text(yaml.safe_dump(raw))
    home = Path(raw["state"]["home"])
    before = files_outside_home(config.parent, home)

    answer = cli("run", config, "--json")

    assert answer.code == Exit.STORE_UNAVAILABLE, answer
    assert answer.error["kind"] == "store_unavailable"
    expected_store = "promotion ledger" if "ledger_url" in state else "home folder"
    assert answer.error["message"].startswith(expected_store) and "nothing was changed" in answer.error["message"]
    human = cli("run", config)
    assert human.code == Exit.STORE_UNAVAILABLE and len(human.stderr.strip().splitlines()) <= 3, human.stderr
    assert files_outside_home(config.parent, home) == before
    assert not home.is_dir() or registered(home) == []


@pytest.mark.integration
def test_unreachable_ledger_for_history_and_rollback(cli, model_store):
    name = model_store.add_model(1)
    for args in (["history", name], ["rollback", name], ["status", name]):
        answer = cli(*args, "--home", model_store.home, "--ledger-url", PG_DOWN, "--json")
        assert answer.code == Exit.STORE_UNAVAILABLE, (args, answer)
        assert answer.error["kind"] == "store_unavailable" and "promotion ledger" in answer.error["message"]


@pytest.fixture(scope="module")
def trained(cli, template, tmp_path_factory):
    """A real first run through the CLI: v1 of ``synth`` is champion, with its snapshot."""
    config = case_folder(template, tmp_path_factory.mktemp("trained") / "ws")
    (config.parent / "incoming").mkdir()
    answer = cli("run", config, "--json")
    assert answer.code == Exit.OK and answer.data["status"] == "promoted", answer
    return config


def shifted_month(make_month) -> pd.DataFrame:
    """Passes the suite, but other distributions and flipped labels: drift and decay."""
    df = make_month(4, rows=1500, flip=True)
    df["x1"] = df["x1"].abs().clip(upper=2.5)
    df["x2"] = (df["x2"] * 0.2 + 8).round(4)
    df["colour"] = "red"
    return df


def table_rows(config: Path, make_month) -> dict:
    """(args, exit code, error kind or None, words) for each README row a CLI call produces."""
    home, incoming = config.parent / "home", config.parent / "incoming"
    bad = make_month(4)
    bad.loc[bad.index[:200], "colour"] = "\u00c3\u00a9"  # most rows garbled: broken, not a new colour
    bad.to_csv(incoming / "bad.csv", index=False)
    shifted_month(make_month).to_csv(incoming / "shifted.csv", index=False)
    h = ["--home", home]
    return {
        0: (["status", "synth", *h], None, "champion"),
        1: (
            ["serve", config, "--register-only", "--api-url", "http://127.0.0.1:1/api"],
            "unexpected",
            "no Prefect server",
        ),
        2: (["status", "../../x", *h], "usage", "not allowed"),
        3: (["validate", config, incoming / "bad.csv"], None, "colour"),
        5: (["status", "no-such-model", *h], "unknown_model", "no registered model"),
        6: (["rollback", "synth", *h], "nothing_to_roll_back", "first champion"),
        7: (["rollback", "synth", "--to", "99", *h], "target_unavailable", "does not exist"),
        8: (["rollback", "synth", "--expect-current", "7", *h], "expectation_mismatch", "not 7"),
        9: (["drift", config, incoming / "shifted.csv"], None, "drift"),
    }


@pytest.mark.integration
@pytest.mark.parametrize("code", [0, 1, 2, 3, 5, 6, 7, 8, 9])
def test_every_readme_row_a_cli_call_produces(code, cli, trained, synth):
    args, kind, words = table_rows(trained, synth.make_month)[code]
    home = trained.parent / "home"
    before = registered(home)

    answer = cli(*args, "--json")

    assert answer.code == code, answer
    assert answer.data.get("exit_code", code) == code
    if kind is not None:
        assert answer.error["kind"] == kind and words in answer.error["message"], answer.error
    else:
        assert words in answer.stdout
    assert registered(home) == before
    assert champion_of(home, "synth") == "1"


def champion_of(home: Path, name: str) -> str | None:
    from mlflow import MlflowClient

    model = MlflowClient(
        tracking_uri=f"sqlite:///{home / 'mlflow.db'}", registry_uri=f"sqlite:///{home / 'mlflow.db'}"
    ).get_registered_model(name)
    return str(model.aliases["champion"]) if "champion" in model.aliases else None


@pytest.mark.integration
def test_rejected_candidate_is_exit_4(cli, trained):
    """Last on the trained store: it registers v2 as challenger."""
    raw = yaml.safe_load(trained.read_text())
    raw["estimator"] = {"class_path": "sklearn.dummy.DummyClassifier", "params": {"strategy": "prior"}}
    crippled = trained.with_name("crippled.yaml")
    crippled.write_text(yaml.safe_dump(raw))

    answer = cli("run", crippled, "--json")

    assert answer.code == Exit.REJECTED and answer.data["status"] == "rejected", answer
    assert champion_of(trained.parent / "home", "synth") == "1"


@pytest.fixture
def promote(monkeypatch, mlflow_globals):
    """``promote(home, name, *versions)``: champion moves made in this process, to set a case up.

    The moves are not what these tests check, so they skip a ``retrain`` process's start-up
    (seconds each); what the tests check still runs as a real process through ``cli``.
    """
    from typer.testing import CliRunner

    from retrain.cli import app

    for var in ("RETRAIN_HOME", "RETRAIN_TRACKING_URI", "RETRAIN_LEDGER_URL"):
        monkeypatch.delenv(var, raising=False)

    def move(home: Path, name: str, *versions: str) -> None:
        for version in versions:
            done = CliRunner().invoke(app, ["promote", name, version, "--reason", "set up", "--home", str(home)])
            assert done.exit_code == 0, done.output

    return move


@pytest.mark.integration
def test_status_records_a_champion_moved_outside_retrain_and_blocks_what_a_rollback_there_replaced(
    cli, model_store, promote
):
    name = model_store.add_model(2)
    promote(model_store.home, name, "1")
    model_store.client.set_registered_model_alias(name, "champion", "2")  # moved on in MLflow's UI

    answer = cli("status", name, "--home", model_store.home, "--json")

    assert answer.code == Exit.OK and answer.data["warnings"] == [], answer
    assert any("moved outside Retrain, v1 → v2; recorded" in n for n in answer.data["notes"]), answer.data
    assert answer.data["blocks"] == []  # a move forward blocks nothing
    model_store.client.set_registered_model_alias(name, "champion", "1")  # rolled back in MLflow's UI
    back = cli("status", name, "--home", model_store.home, "--json")
    assert any("rolled back outside Retrain, v2 → v1" in n for n in back.data["notes"]), back.data
    assert [b["version"] for b in back.data["blocks"]] == ["2"]  # as `retrain rollback` blocks it
    assert cli("status", name, "--home", model_store.home, "--json").data["notes"] == []  # recorded once
    history = cli("history", name, "--home", model_store.home, "--json")
    assert history.code == Exit.OK and "outside Retrain" in history.stdout
    assert champion_of(model_store.home, name) == "1"


@pytest.mark.integration
def test_status_warns_when_the_champion_does_not_load(cli, model_store, promote):
    name = model_store.add_model(2)
    promote(model_store.home, name, "1", "2")
    shutil.rmtree(model_store.home / "models" / name / "v2")

    answer = cli("status", name, "--home", model_store.home, "--json")

    assert answer.code == Exit.OK, answer
    [warning] = answer.data["warnings"]
    assert "does not load" in warning and f"retrain rollback {name} --to" in warning


@pytest.mark.integration
def test_rollback_to_a_deleted_version_names_the_next_loadable_one(cli, model_store, promote):
    name = model_store.add_model(3)
    promote(model_store.home, name, "1", "2", "3")
    shutil.rmtree(model_store.home / "models" / name / "v2")

    answer = cli("rollback", name, "--home", model_store.home, "--json")

    assert answer.code == Exit.TARGET_UNAVAILABLE, answer
    assert answer.error["kind"] == "target_unavailable"
    assert f"retrain rollback {name} --to 1" in answer.error["message"], answer.error
    assert champion_of(model_store.home, name) == "3"
    assert cli("rollback", name, "--to", "1", "--home", model_store.home).code == Exit.OK


@pytest.mark.integration
def test_debug_shows_the_traceback(child_env, template, tmp_path):
    config = case_folder(template, tmp_path / "case", estimator={"class_path": "sklearn.nope.X", "params": {}})
    env = child_env(RETRAIN_DEBUG="1")
    done = subprocess.run(
        [sys.executable, "-m", "retrain.cli", "run", str(config)],
        capture_output=True,
        text=True,
        env={k: v for k, v in env.items() if k != "RETRAIN_HOME"},
    )
    assert done.returncode == Exit.USAGE and "Traceback" in done.stderr
