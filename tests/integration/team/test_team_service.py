"""Retrain as a team service: both servers on PostgreSQL behind credentials, a process work
pool with two workers, three models, the fleet view, and no password anywhere.

One pair of servers serves the whole module (``retrain server up`` on freshly named
databases, dropped at the end); the tests run in file order and build on each other: a CLI
retrain makes team-a's first champion, the work pool retrains all three models and checks
their drift, then team-a is rolled back and the fleet is listed. The last test searches
everything the module produced for the three secrets.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

RETRAIN = str(Path(sys.executable).with_name("retrain"))
TOKEN = uuid.uuid4().hex[:10]
DB_PASSWORD = f"dbpw-{TOKEN}-q"
MLFLOW_PASSWORD = f"mlpw-{TOKEN}-q"
PREFECT_AUTH = f"team:pfpw-{TOKEN}-q"
SECRETS = (DB_PASSWORD, MLFLOW_PASSWORD, PREFECT_AUTH.split(":", 1)[1])
MODELS = ("team-a", "team-b", "team-c")
POOL = "team-pool"
PG_HOST, PG_PORT = (os.environ.get("RETRAIN_TEST_PG") or "127.0.0.1:5432").split(":")  # `make test`'s cluster


def drop_databases(names: list[str]) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(host=PG_HOST, port=int(PG_PORT), user="postgres", dbname="postgres", autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def client_env(tmp: Path) -> dict[str, str]:
    """A clean environment with the three credentials; no setting of the test session leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RETRAIN_", "MLFLOW_"))}
    return env | {
        "MLFLOW_TRACKING_USERNAME": "admin",
        "MLFLOW_TRACKING_PASSWORD": MLFLOW_PASSWORD,
        "PREFECT_API_AUTH_STRING": PREFECT_AUTH,
        "PREFECT_HOME": str(tmp / "prefect-client"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "OMP_NUM_THREADS": "1",
    }


def write_models(tmp: Path, synth) -> dict[str, Path]:
    """Three small synthetic models sharing one home; a gate that promotes any candidate above the floor."""
    from base.settings import load_config
    from monitoring.validation import propose_suite, write_suite

    configs = {}
    for seed, name in enumerate(MODELS):
        root = tmp / name
        (root / "batches").mkdir(parents=True)
        for month in (1, 2, 3):
            synth.make_month(month, rows=200, seed=seed).to_csv(root / "batches" / f"m{month:02d}.csv", index=False)
        configs[name] = synth.write_config(
            root, name=name, gate={"max_regression": 1.0}, state={"home": str(tmp / "home")}
        )
    first = load_config(configs[MODELS[0]])
    write_suite(propose_suite(pd.concat([synth.make_month(m, rows=200) for m in (1, 2, 3)]), first), first.suite_path)
    for name in MODELS[1:]:
        shutil.copy(first.suite_path, load_config(configs[name]).suite_path)
    return configs


@pytest.fixture(scope="module")
def team(tmp_path_factory, synth, local_net):
    tmp = tmp_path_factory.mktemp("team")
    prefix = f"rt_team_{TOKEN}"
    env = client_env(tmp)
    outputs: list[str] = []

    def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([RETRAIN, *args], env=env, capture_output=True, text=True, timeout=300, cwd=tmp)
        outputs.extend([done.stdout, done.stderr])
        if check:
            assert done.returncode == 0, f"retrain {' '.join(args)}: {done.stdout}\n{done.stderr}"
        return done

    state = tmp / "state"
    database_url = f"postgresql://postgres:{DB_PASSWORD}@{PG_HOST}:{PG_PORT}/{prefix}"
    ports = [str(local_net.free_port()), str(local_net.free_port())]
    workers: list[subprocess.Popen] = []
    command = [RETRAIN, "server", "up", "--database-url", database_url, "--state", str(state), "--json",
               "--prefect-port", ports[0], "--mlflow-port", ports[1],
               "--artifacts", str(tmp / "artifacts")]  # fmt: skip
    starting = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp)
    try:
        configs = write_models(tmp, synth)  # while the servers start
        stdout, stderr = starting.communicate(timeout=300)
        outputs.extend([stdout, stderr])
        assert starting.returncode == 0, f"retrain server up: {stdout}\n{stderr}"
        up = json.loads(stdout)
        env.update(
            PREFECT_API_URL=up["env"]["PREFECT_API_URL"],
            RETRAIN_TRACKING_URI=up["env"]["RETRAIN_TRACKING_URI"],
            # the password in the ledger URL too: it must be masked wherever the URL shows
            RETRAIN_LEDGER_URL=up["env"]["RETRAIN_LEDGER_URL"].replace("postgres@", f"postgres:{DB_PASSWORD}@"),
        )
        yield SimpleNamespace(
            tmp=tmp, env=env, cli=cli, outputs=outputs, state=state, workers=workers, configs=configs, up=up, runs={}
        )
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
        cli("server", "down", "--state", str(state), check=False)
        drop_databases([f"{prefix}_{s}" for s in ("prefect", "mlflow", "mlflow_auth")])


def status_of(url: str, auth: tuple[str, str] | None = None, body: bytes | None = None) -> int:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def test_servers_refuse_calls_without_credentials(team):
    mlflow = f"{team.env['RETRAIN_TRACKING_URI']}/api/2.0/mlflow/experiments/search?max_results=1"
    prefect = f"{team.env['PREFECT_API_URL']}/flows/filter"
    assert status_of(mlflow) == 401
    assert status_of(mlflow, ("admin", "wrong-password-123")) == 401
    assert status_of(mlflow, ("admin", MLFLOW_PASSWORD)) == 200
    assert status_of(prefect, body=b"{}") == 401
    user, secret = PREFECT_AUTH.split(":", 1)
    assert status_of(prefect, (user, secret), body=b"{}") == 200
    assert status_of(prefect, ("team", "nope"), body=b"{}") == 401
    assert team.up["databases"] == [f"rt_team_{TOKEN}_{s}" for s in ("prefect", "mlflow", "mlflow_auth")]
    assert "***" in team.up["env"]["MLFLOW_TRACKING_PASSWORD"]


def test_retrain_run_with_credentials(team):
    done = team.cli("run", str(team.configs["team-a"]), "--json")
    outcome = json.loads(done.stdout)
    assert outcome["status"] == "promoted" and outcome["champion_version"] == "1"


def run_deployments(team, names: list[str]) -> dict[str, object]:
    """Create the runs together on the team server; returns flow runs by 'flow/deployment'."""
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: team.env["PREFECT_API_URL"], PREFECT_API_AUTH_STRING: PREFECT_AUTH}):
        return {name: run_deployment(name, timeout=0) for name in names}


def wait_for_runs(team, ids: list, timeout: float = 420) -> list:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    deadline = time.monotonic() + timeout
    with (
        temporary_settings({PREFECT_API_URL: team.env["PREFECT_API_URL"], PREFECT_API_AUTH_STRING: PREFECT_AUTH}),
        get_client(sync_client=True) as client,
    ):
        while True:
            runs = [client.read_flow_run(i) for i in ids]
            if all(r.state is not None and r.state.is_final() for r in runs) or time.monotonic() > deadline:
                return runs
            time.sleep(2)


def start_worker(team, name: str) -> Path:
    log = team.tmp / f"worker-{name}.log"
    env = team.env | {"PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_WORKER_PREFETCH_SECONDS": "5"}
    with log.open("wb") as out:
        team.workers.append(
            subprocess.Popen(
                [sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL, "--name", name, "--limit", "3"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=team.tmp,
            )
        )
    return log


def test_two_workers_run_three_retrains_and_three_drift_checks(team, synth):
    for seed, name in enumerate(MODELS):  # a fresh month for every model: each retrain has new data
        synth.make_month(4, rows=200, seed=seed).to_csv(team.configs[name].parent / "batches" / "m04.csv", index=False)
    deployed = json.loads(team.cli("deploy", *map(str, team.configs.values()), "--pool", POOL, "--json").stdout)
    assert {d["pool"] for d in deployed["deployments"]} == {POOL}
    logs = [start_worker(team, "worker-1"), start_worker(team, "worker-2")]
    names = [f"retrain/{m}" for m in MODELS] + [f"drift-check/{m}" for m in MODELS] + ["fleet/fleet"]
    created = run_deployments(team, names)
    runs = wait_for_runs(team, [r.id for r in created.values()])
    assert [r.state.type.value for r in runs] == ["COMPLETED"] * 7, [(r.name, r.state) for r in runs]
    team.runs.update({name: run for name, run in zip(names, runs, strict=True)})

    taken = [{str(r.id) for r in runs if str(r.id) in log.read_text()} for log in logs]
    assert all(taken), f"each worker took runs: {taken}"
    assert taken[0] | taken[1] == {str(r.id) for r in runs}

    assert_one_retrain_at_a_time(team)
    assert_promotions_gated_against_replaced_champion(team)


def assert_one_retrain_at_a_time(team) -> None:
    """Per model, no two retrain runs that trained (registered a version) overlap in time.

    A retrain triggered while another holds the model's lease ends ``busy`` at once, so its
    flow run may overlap the holder's; it trains and registers nothing, which is the rule.
    """
    from mlflow import MlflowClient
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName, FlowRunFilter, FlowRunFilterTags
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    os.environ.update(MLFLOW_TRACKING_USERNAME="admin", MLFLOW_TRACKING_PASSWORD=MLFLOW_PASSWORD)
    try:
        registry = MlflowClient(team.env["RETRAIN_TRACKING_URI"], team.env["RETRAIN_TRACKING_URI"])
        trained = {
            model: {(v.tags or {}).get("flow_run_id") for v in registry.search_model_versions(f"name = '{model}'")}
            for model in MODELS
        }
    finally:
        for key in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
            os.environ.pop(key, None)
    with (
        temporary_settings({PREFECT_API_URL: team.env["PREFECT_API_URL"], PREFECT_API_AUTH_STRING: PREFECT_AUTH}),
        get_client(sync_client=True) as client,
    ):
        for model in MODELS:
            runs = client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=["retrain"])),
                flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[f"model:{model}"])),
                sort=FlowRunSort.START_TIME_ASC,
                limit=50,
            )
            spans = sorted(
                (r.start_time, r.end_time) for r in runs if r.start_time and r.end_time and str(r.id) in trained[model]
            )
            assert spans, f"{model}: no retrain run registered a version"
            assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans)), f"{model}: overlapping retrains {spans}"


def assert_promotions_gated_against_replaced_champion(team) -> None:
    """Every automatic promotion in the ledger replaced exactly the champion its gate compared with."""
    from mlflow import MlflowClient

    from registry.ledger import open_ledger

    os.environ.update(MLFLOW_TRACKING_USERNAME="admin", MLFLOW_TRACKING_PASSWORD=MLFLOW_PASSWORD)
    try:
        client = MlflowClient(team.env["RETRAIN_TRACKING_URI"], team.env["RETRAIN_TRACKING_URI"])
        ledger = open_ledger(team.env["RETRAIN_LEDGER_URL"])
        expected = {"team-a": [None, "1"], "team-b": [None], "team-c": [None]}
        for model in MODELS:
            promotions = [e for e in ledger.entries(model, "applied") if e.action == "promote" and e.run_id]
            assert [e.from_version for e in promotions] == expected[model]
            for entry in promotions:
                tags = client.get_model_version(model, entry.to_version).tags
                assert tags.get("gate.champion_version") == entry.from_version, (model, entry, tags)
    finally:
        for key in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
            os.environ.pop(key, None)


def test_rollback_status_and_history_with_credentials(team):
    rolled = json.loads(team.cli("rollback", "team-a", "--reason", "team drill", "--json").stdout)
    assert (rolled["from_version"], rolled["to_version"]) == ("2", "1")
    status = json.loads(team.cli("status", "team-a", "--json").stdout)
    assert status["champion"]["version"] == "1"
    assert "blocks" in status and status["blocks"][0]["version"] == "2"  # the version taken away is blocked


def test_fleet_view_lists_every_model(team):
    fleet = json.loads(team.cli("status", "--json").stdout)
    rows = {r["model"]: r for r in fleet["models"]}
    assert sorted(rows) == list(MODELS)
    assert [rows[m]["champion"] for m in MODELS] == ["1", "1", "1"]
    assert rows["team-a"]["last_retrain"]["version"] == "2" and rows["team-a"]["last_retrain"]["trigger"] == "manual"
    assert all(rows[m]["metric"] == "roc_auc" and rows[m]["champion_score"] > 0.6 for m in MODELS)
    assert rows["team-a"]["last_drift"]["verdict"] in ("none", "drift", "performance", "drift,performance")
    assert any(rows[m]["next_run"] for m in MODELS)  # the 72 h schedules, read from the Prefect server
    human = team.cli("status").stdout
    assert all(m in human for m in MODELS) and "fleet" in human
    assert "retrain-fleet" in prefect_texts(team)["artifact keys"]  # the fleet flow published the table


def test_no_password_appears_anywhere(team):
    unreachable = f"postgresql+psycopg://postgres:{DB_PASSWORD}@127.0.0.1:1/nowhere"
    failed = team.cli("status", "team-a", "--ledger-url", unreachable, "--json", check=False)
    assert failed.returncode == 13 and "postgres:***@127.0.0.1:1" in failed.stdout  # named, password masked
    texts = {f"output {i}": text for i, text in enumerate(team.outputs)}
    for folder in (team.state, team.tmp / "home", team.tmp):
        for path in folder.rglob("*"):
            if path.is_file() and path.stat().st_size < 5_000_000:
                texts[str(path)] = path.read_bytes().decode(errors="replace")
    texts |= mlflow_texts(team) | prefect_texts(team)
    record = json.loads((team.state / "team.json").read_text())
    for pid in (record["prefect_pid"], record["mlflow_pid"], *(w.pid for w in team.workers)):
        texts[f"cmdline {pid}"] = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    leaks = [(where, secret) for where, text in texts.items() for secret in SECRETS if secret in text]
    assert not leaks
    assert len(texts) > 50  # outputs, logs, artifacts, tags and run records were all searched


def mlflow_texts(team) -> dict[str, str]:
    from mlflow import MlflowClient

    os.environ.update(MLFLOW_TRACKING_USERNAME="admin", MLFLOW_TRACKING_PASSWORD=MLFLOW_PASSWORD)
    try:
        client = MlflowClient(team.env["RETRAIN_TRACKING_URI"], team.env["RETRAIN_TRACKING_URI"])
        texts = {}
        experiments = [e.experiment_id for e in client.search_experiments()]
        for run in client.search_runs(experiments, max_results=500):
            texts[f"run {run.info.run_id}"] = json.dumps([run.data.tags, run.data.params])
        for model in MODELS:
            for version in client.search_model_versions(f"name = '{model}'"):
                texts[f"{model} v{version.version}"] = json.dumps(client.get_model_version(model, version.version).tags)
        return texts
    finally:
        for key in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
            os.environ.pop(key, None)


def prefect_api(team, path: str, body: dict) -> list[dict]:
    """POST to the team's Prefect REST API with the auth string; the decoded JSON list."""
    token = base64.b64encode(PREFECT_AUTH.encode()).decode()
    request = urllib.request.Request(
        f"{team.env['PREFECT_API_URL']}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Basic {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def prefect_texts(team) -> dict[str, str]:
    runs = prefect_api(team, "/flow_runs/filter", {"limit": 200})
    logs = prefect_api(team, "/logs/filter", {"limit": 200})
    artifacts = prefect_api(team, "/artifacts/filter", {"limit": 200})
    return {
        "flow runs": json.dumps([r["parameters"] for r in runs]),
        "logs": "\n".join(log["message"] for log in logs),
        "artifacts": json.dumps([a["data"] for a in artifacts]),
        "artifact keys": " ".join(a["key"] or "" for a in artifacts),
    }


def test_the_mlflow_users_sign_in_to_the_review_page(team):
    from retrain.review_web.accounts import Gatekeeper

    gate = Gatekeeper({}, team.env["RETRAIN_TRACKING_URI"])  # no account of the page's own
    assert gate.sign_in("admin", MLFLOW_PASSWORD)
    assert not gate.sign_in("admin", "wrong-password-123")
    assert not gate.sign_in("nobody", MLFLOW_PASSWORD)
