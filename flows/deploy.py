"""Deployments for ``retrain serve``: per model a scheduled and event-triggered retrain, a drift
check on its own schedule, and rollback/promote for manual runs from the Prefect UI.

One function builds the deployment objects (``build_deployments``); registering them
(``register_deployments``) and serving them (``serve_deployments``) both start from it.

Collision strategy. A retrain deployment allows one run at a time and *cancels* a run that
arrives while another holds the slot (``CANCEL_NEW``). The alternative, ``ENQUEUE``, queues
it, and queues pile up: after an outage every missed schedule and every drift event of the
day would replay one after another (Prefect #15886), each retraining on the same data. A
retrain reads every batch present when it starts, so a cancelled duplicate loses nothing;
the server also cancels, instead of marking Late, runs that come due while the slot is full.

Schedules use a fixed anchor from the config, so redeploying never shifts them, and a slug,
so redeploying updates the schedule instead of adding a second one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.events import DeploymentEventTrigger
from prefect.schedules import Interval
from prefect.types.entrypoint import EntrypointType

from base.settings import ModelConfig
from base.vocabulary import EVENTS
from flows.common import model_resource_id

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

ONE_AT_A_TIME = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)
# A champion moved in MLflow's UI is recorded and announced within this many minutes (the slug keeps its
# first name, so redeploying updates the schedule instead of adding a second one).
FLEET_MINUTES = 10
ENTRYPOINT = EntrypointType.MODULE_PATH  # works wherever the package is installed, whatever the cwd


def deployment_of(flow: Any, **options: Any) -> "RunnerDeployment":
    """``flow.to_deployment(...)`` from sync code; Prefect types it as maybe-a-coroutine for async callers."""
    deployment: RunnerDeployment = flow.to_deployment(**options)
    return deployment


def anchor_of(config: ModelConfig) -> datetime:
    """The schedule's anchor; a naive timestamp in the config is read as UTC."""
    anchor = datetime.fromisoformat(config.schedule.anchor)
    return anchor if anchor.tzinfo else anchor.replace(tzinfo=UTC)


def model_tags(config: ModelConfig) -> list[str]:
    return ["retrain", f"model:{config.name}"]


def retrain_triggers(config: ModelConfig) -> list[Any]:
    """One trigger per signal the policy (``drift.triggers``) lets start a retrain."""
    return [
        DeploymentEventTrigger(
            name=f"{config.name}: retrain on {signal}",
            description=f"Retrain {config.name} when a drift check emits {EVENTS[signal]}",
            expect={EVENTS[signal]},
            match={"prefect.resource.id": model_resource_id(config.name)},
            parameters={
                "config_path": str(config.config_path),
                "trigger": signal,
                "reason": "{{ event.payload.summary }}",
            },
        )
        for signal in config.drift.triggers
    ]


def retrain_deployment(config: ModelConfig) -> "RunnerDeployment":
    """Every ``interval_hours`` from the anchor, on drift/decay events, or by hand from the UI."""
    from flows.retrain import retrain_flow

    hours = config.schedule.interval_hours
    return deployment_of(
        retrain_flow,
        name=config.name,
        schedules=[
            Interval(
                timedelta(hours=hours),
                anchor_date=anchor_of(config),
                slug="retrain-interval",
                parameters={"trigger": "schedule", "reason": f"scheduled every {hours:g} h"},
            )
        ],
        parameters={"config_path": str(config.config_path), "trigger": "manual", "reason": ""},
        concurrency_limit=ONE_AT_A_TIME,
        triggers=retrain_triggers(config),
        description=f"Retrain {config.name}: validate, train, gate against the champion, register, promote.",
        tags=model_tags(config),
        entrypoint_type=ENTRYPOINT,
    )


def drift_check_deployment(config: ModelConfig) -> "RunnerDeployment":
    """Check the newest batch every ``drift_check_interval_hours``; one check at a time too."""
    from flows.drift import drift_check_flow

    hours = config.schedule.drift_check_interval_hours
    return deployment_of(
        drift_check_flow,
        name=config.name,
        schedules=[Interval(timedelta(hours=hours), anchor_date=anchor_of(config), slug="drift-check-interval")],
        parameters={"config_path": str(config.config_path), "batch_path": None},
        concurrency_limit=ONE_AT_A_TIME,
        description=f"Check {config.name}'s newest batch (or batch_path) for drift and decay; emit events.",
        tags=model_tags(config),
        entrypoint_type=ENTRYPOINT,
    )


def ops_deployments(config: ModelConfig) -> list["RunnerDeployment"]:
    """Approve, rollback, promote and quarantine release with the model filled in: the UI asks only for what changes."""
    from flows.approval import approve_flow
    from flows.ops import promote_flow, quarantine_release_flow, rollback_flow

    defaults = {"model": config.name, "config_path": str(config.config_path)}
    described = [
        (approve_flow, f"Approve or reject the candidate of {config.name} that waits for approval (approval: manual)."),
        (rollback_flow, f"Put {config.name}'s previous champion back."),
        (promote_flow, f"Make a chosen version of {config.name} champion, through the ledger."),
        (
            quarantine_release_flow,
            f"Put a quarantined batch of {config.name} back for the next run (`widen`: also widen the suite).",
        ),
    ]
    return [
        deployment_of(
            flow,
            name=config.name,
            parameters=defaults,
            tags=model_tags(config),
            description=description,
            entrypoint_type=ENTRYPOINT,
        )
        for flow, description in described
    ]


def serving_deployments(config: ModelConfig) -> list["RunnerDeployment"]:
    """Score a batch with the champion, feed late labels back, and run the HTTP service (a long-running run)."""
    from flows.endpoint import endpoint_flow
    from flows.feedback import feedback_flow
    from flows.score import score_flow

    path = str(config.config_path)
    return [
        deployment_of(
            score_flow,
            name=config.name,
            parameters={"config_path": path, "batch_path": None, "out_path": None, "version": None},
            tags=model_tags(config),
            description=f"Score {config.name}'s newest batch (or batch_path) with the champion; log, queue review.",
            entrypoint_type=ENTRYPOINT,
        ),
        deployment_of(
            feedback_flow,
            name=config.name,
            parameters={"config_path": path},
            tags=model_tags(config),
            description=f"Join late labels (labels_path) to {config.name}'s prediction log; emit decay events.",
            entrypoint_type=ENTRYPOINT,
        ),
        deployment_of(
            endpoint_flow,
            name=config.name,
            parameters={"config_path": path, "host": "127.0.0.1", "port": 8080},
            tags=model_tags(config),
            description=f"Serve {config.name}'s champion over HTTP (retrain endpoint) until cancelled.",
            entrypoint_type=ENTRYPOINT,
        ),
    ]


def build_deployments(config: ModelConfig) -> list["RunnerDeployment"]:
    """All deployments of one model."""
    return [
        retrain_deployment(config),
        drift_check_deployment(config),
        *ops_deployments(config),
        *serving_deployments(config),
    ]


def fleet_deployment(config: ModelConfig) -> "RunnerDeployment":
    """The fleet table as a UI artifact and the check for champions moved in MLflow, every
    ``FLEET_MINUTES``; the stores are those of ``config``."""
    from flows.fleet import fleet_flow

    return deployment_of(
        fleet_flow,
        name="fleet",
        schedules=[Interval(timedelta(minutes=FLEET_MINUTES), anchor_date=anchor_of(config), slug="fleet-hourly")],
        parameters={"home": str(config.home)},
        concurrency_limit=ONE_AT_A_TIME,
        description="Every model in one table (champion, challenger, last retrain, last drift, holds); "
        "records and announces a champion moved in the MLflow registry.",
        tags=["retrain"],
        entrypoint_type=ENTRYPOINT,
    )


def describe(deployment: "RunnerDeployment") -> dict[str, Any]:
    """What a person needs to see about a deployment: name, schedule, triggers, limit."""
    schedules = [getattr(s.schedule, "interval", None) for s in deployment.schedules or []]
    return {
        "deployment": f"{deployment.flow_name}/{deployment.name}",
        "every_hours": [round(s.total_seconds() / 3600, 3) for s in schedules if s is not None],
        "triggers": sorted(e for t in deployment.triggers for e in getattr(t, "expect", ())),
        "concurrency_limit": deployment.concurrency_limit,
    }


def register_deployments(configs: list[ModelConfig]) -> list[dict[str, Any]]:
    """Create or update every deployment of every model on the API server, serve nothing."""
    registered = []
    for config in configs:
        for deployment in build_deployments(config):
            deployment_id = deployment.apply()
            registered.append({**describe(deployment), "id": str(deployment_id)})
    if configs:
        fleet = fleet_deployment(configs[0])
        registered.append({**describe(fleet), "id": str(fleet.apply())})
    return registered


def serve_deployments(configs: list[ModelConfig], limit: int | None = None) -> None:
    """Register and run the deployments until Ctrl-C; schedules stay active on shutdown."""
    from prefect import serve

    deployments = [d for config in configs for d in build_deployments(config)]
    deployments += [fleet_deployment(configs[0])] if configs else []
    serve(*deployments, pause_on_shutdown=False, limit=limit)


def ensure_process_pool(pool: str) -> None:
    """Create the work pool as type ``process`` with Prefect's default job template if it is missing."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
            return
        except ObjectNotFound:
            pass
        template = ProcessWorker.get_default_base_job_template()
        try:
            client.create_work_pool(WorkPoolCreate(name=pool, type="process", base_job_template=template))
        except ObjectAlreadyExists:  # another deploy created it meanwhile
            pass


def deploy_to_pool(configs: list[ModelConfig], pool: str) -> list[dict[str, Any]]:
    """The deployments ``serve`` registers, on a ``process`` work pool instead of this process.

    Entrypoints are module paths, so a worker needs no pull step and no image: any machine
    with Retrain installed and access to the servers runs them.
    """
    ensure_process_pool(pool)
    registered = []
    for config in configs:
        for deployment in build_deployments(config):
            deployment_id = deployment.apply(work_pool_name=pool)
            registered.append({**describe(deployment), "id": str(deployment_id), "pool": pool})
    if configs:
        fleet = fleet_deployment(configs[0])
        registered.append({**describe(fleet), "id": str(fleet.apply(work_pool_name=pool)), "pool": pool})
    return registered
