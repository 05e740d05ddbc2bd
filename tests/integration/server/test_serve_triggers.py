"""``retrain serve`` against a real Prefect server: schedules, event triggers, one retrain at a time."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)
EMIT = """
import sys
from prefect.events import emit_event
for name in sys.argv[2:]:
    emit_event(event=name, resource={"prefect.resource.id": "retrain.model." + sys.argv[1]},
               payload={"summary": "test " + name})
"""


def retrain_cli(*args: str, env: dict, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "retrain.cli", *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout
    )


def emit(model: str, *events: str, env: dict) -> None:
    done = subprocess.run(
        [sys.executable, "-c", EMIT, model, *events], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def wait_for(what: str, probe, timeout: float = 150, every: float = 1.0):
    """Poll ``probe`` until it returns something truthy; generous for a busy 2-core machine."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out waiting for {what}")


def deployment(name: str):
    from prefect import get_client

    with get_client(sync_client=True) as client:
        return client.read_deployment_by_name(name)


def event_runs(deployment_id) -> list:
    """Runs of a deployment started by a drift or decay event (not by its schedule)."""
    from prefect import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
            sort=FlowRunSort.START_TIME_DESC,
            limit=50,
        )
    return [r for r in runs if r.parameters.get("trigger") in ("drift", "performance")]


def scheduled_runs(deployment_id) -> list:
    from prefect import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC,
            limit=5,
        )
    return [r for r in runs if r.state and r.state.is_scheduled()]


def ever_ran(run_id) -> bool:
    from prefect import get_client

    with get_client(sync_client=True) as client:
        return any(s.type.value == "RUNNING" for s in client.read_flow_run_states(run_id))


@pytest.fixture(scope="module")
def serving(tmp_path_factory, synth, helpers, served_env):
    """``retrain serve`` for three models in a subprocess, shared by the module's trigger tests
    (each test triggers models of its own); its runner polls every second."""
    tmp_path = tmp_path_factory.mktemp("serving")
    configs = [
        helpers.build_model_workspace(tmp_path / name, synth, name) for name in ("synth-a", "synth-b", "synth-c")
    ]
    env = served_env(SLOW_FIT_SECONDS="60", PREFECT_RUNNER_POLL_FREQUENCY="1", PYTHONPATH=str(tmp_path / "synth-a"))
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "retrain.cli", "serve", *map(str, configs)],
        env=env,
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def registered():
        assert process.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
        try:
            return deployment("promote/synth-c")
        except Exception:  # not created yet
            return None

    wait_for("retrain serve to register its deployments", registered)
    time.sleep(2)  # the runner registers the deployments before it starts polling
    yield env
    helpers.stop_group(process)
    log.close()


def test_register_only_creates_interval_schedule_triggers_and_limit(tmp_path, synth, helpers, served_env):
    from prefect import get_client
    from prefect.client.schemas.objects import ConcurrencyLimitStrategy

    config = helpers.build_model_workspace(tmp_path / "m", synth, "synth-m")
    for _ in range(2):  # registering again must not add a schedule or move its anchor
        done = retrain_cli("serve", str(config), "--register-only", "--json", env=served_env())
        assert done.returncode == 0, done.stdout + done.stderr
    listed = {d["deployment"] for d in json.loads(done.stdout)["deployments"]}
    assert listed == {
        "retrain/synth-m",
        "drift-check/synth-m",
        "approve/synth-m",
        "rollback/synth-m",
        "promote/synth-m",
        "quarantine-release/synth-m",
        "score/synth-m",
        "feedback/synth-m",
        "endpoint/synth-m",
        "fleet/fleet",  # the fleet table as a UI artifact, one per served set of models
    }

    retrain = deployment("retrain/synth-m")
    assert len(retrain.schedules) == 1
    schedule = retrain.schedules[0]
    assert schedule.schedule.interval == timedelta(hours=72)
    assert schedule.schedule.anchor_date == ANCHOR
    assert schedule.parameters["trigger"] == "schedule"
    assert retrain.global_concurrency_limit.limit == 1
    assert retrain.concurrency_options.collision_strategy == ConcurrencyLimitStrategy.CANCEL_NEW
    assert retrain.parameters["config_path"] == str(config)
    assert retrain.parameter_openapi_schema["required"] == ["config_path"]
    assert deployment("drift-check/synth-m").schedules[0].schedule.interval == timedelta(hours=24)

    scheduled = wait_for("the scheduler to plan runs", lambda: scheduled_runs(retrain.id))
    for run in scheduled:
        assert run.parameters["trigger"] == "schedule"
        since_anchor = run.expected_start_time.timestamp() - ANCHOR.timestamp()
        assert since_anchor % (72 * 3600) == 0
        assert run.expected_start_time.timestamp() > time.time() - 72 * 3600

    with get_client(sync_client=True) as client:
        automations = client.read_resource_related_automations(f"prefect.deployment.{retrain.id}")
    assert sorted(e for a in automations for e in a.trigger.expect) == [
        "retrain.drift.detected",
        "retrain.performance.degraded",
    ]
    for automation in automations:
        assert automation.trigger.match.model_dump()["prefect.resource.id"] == "retrain.model.synth-m"


def test_drift_event_starts_a_retrain_of_that_models_deployment(serving):
    a, b = deployment("retrain/synth-a"), deployment("retrain/synth-b")
    emit("synth-a", "retrain.drift.detected", env=serving)

    runs = wait_for("a retrain run of synth-a", lambda: event_runs(a.id))
    assert len(runs) == 1
    assert runs[0].parameters["trigger"] == "drift"
    assert runs[0].parameters["reason"] == "test retrain.drift.detected"
    wait_for("the served runner to start it", lambda: ever_ran(runs[0].id))
    assert event_runs(b.id) == []


def test_two_triggers_at_once_run_one_retrain(serving):
    b = deployment("retrain/synth-c")
    emit("synth-c", "retrain.drift.detected", "retrain.performance.degraded", env=serving)

    runs = wait_for("two triggered runs", lambda: (r := event_runs(b.id)) and len(r) == 2 and r)
    assert {r.parameters["trigger"] for r in runs} == {"drift", "performance"}

    def settled():
        fresh = event_runs(b.id)
        cancelled = [r for r in fresh if r.state.is_cancelled()]
        started = [r for r in fresh if ever_ran(r.id)]
        return (cancelled, started) if cancelled and started else None

    cancelled, started = wait_for("one run to start and the other to be cancelled", settled)
    assert len(started) == 1 and len(cancelled) == 1
    assert not ever_ran(cancelled[0].id)
    assert "concurrency limit" in (cancelled[0].state.message or "").lower()


@pytest.mark.parametrize(
    "policy, expected",
    [
        (["performance"], ["retrain.performance.degraded"]),
        ([], []),
    ],
)
def test_policy_decides_which_events_start_a_retrain(tmp_path, synth, policy, expected):
    from base.settings import load_config
    from flows.deploy import build_deployments

    config = load_config(
        synth.write_config(tmp_path, drift={"triggers": policy}, schedule={"anchor": "2026-03-01T06:00:00"})
    )
    retrain, drift_check, *ops = build_deployments(config)

    assert sorted(e for t in retrain.triggers for e in t.expect) == expected
    assert retrain.schedules[0].schedule.anchor_date == datetime(2026, 3, 1, 6, tzinfo=UTC)
    assert drift_check.triggers == [] and [d.flow_name for d in ops] == [
        "approve",
        "rollback",
        "promote",
        "quarantine-release",
        "score",
        "feedback",
        "endpoint",
    ]
