"""``retrain_flow``: load → validate → train → evaluate → gate → register → promote.

The flow only wires the logic packages as Prefect tasks. It adds retries where I/O can
fail transiently (reading files, talking to the registry), logs, branches on the gate's
decision, and publishes that decision as an artifact a person can read in the UI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from flows.common import IO_RETRIES, publish_decision, publish_invalid_batches
from retrain.config import ModelConfig, load_config
from retrain.outcome import RunOutcome

Trigger = Literal["manual", "schedule", "drift", "performance", "demo"]


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def find_batches(config: ModelConfig) -> list[Path]:
    from training.data import find_batches as find

    return find(config.data_glob)


@task(cache_policy=NO_CACHE, task_run_name="intake-{path.name}", **IO_RETRIES)
def intake_batch(path: Path, config: ModelConfig):
    from monitoring.intake import check_batch

    return check_batch(path, config)


@task(cache_policy=NO_CACHE)
def screen_timestamps(intakes: list, config: ModelConfig) -> list:
    """Fail accepted batches whose timestamps would break the time split (future, far off)."""
    from dataclasses import replace

    from monitoring.timestamps import find_implausible

    flagged = find_implausible([i for i in intakes if i.accepted], config)
    return [replace(i, report=flagged[str(i.path)]) if str(i.path) in flagged else i for i in intakes]


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def quarantine(intake, config: ModelConfig) -> str:
    from monitoring.validation import quarantine_batch

    return str(quarantine_batch(intake.path, intake.report, config.quarantine_dir))


@task(cache_policy=NO_CACHE)
def split_data(frames: list, config: ModelConfig):
    import pandas as pd

    from training.split import split_by_time

    return split_by_time(pd.concat(frames, ignore_index=True), config)


@task(cache_policy=NO_CACHE)
def train(split, config: ModelConfig):
    from training.pipeline import train_candidate

    return train_candidate(split, config)


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def current_champion(config: ModelConfig, load: bool = False):
    """The current champion (model or None, version), or (None, None) for a model's first run."""
    from registry.store import connect
    from registry.versions import get_version, load_model

    client = connect(config)
    info = get_version(client, config.name, "champion")
    if info is None:
        return None, None
    return (load_model(client, config.name, info.version) if load else None), info.version


@task(cache_policy=NO_CACHE)
def gate(candidate, champion, champion_version, split, config: ModelConfig):
    from training.gate import decide_promotion

    return decide_promotion(
        config.task, config, candidate.model, champion, split.holdout, candidate.features, champion_version
    )


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def register(candidate, split, decision, lineage: dict, config: ModelConfig):
    from flows.drift import store_reference
    from registry.store import connect
    from registry.versions import register_candidate

    client = connect(config)
    sample = split.holdout[candidate.features].head(20)
    version = register_candidate(
        client, config, candidate.model, sample, lineage, decision.candidate_metrics,
        params=candidate.params, decision=decision.to_dict(),
    )
    stored = store_reference(client, version, split.train, candidate.features, config, return_state=True)
    if not stored.is_completed():  # a retry here would register the version twice
        get_run_logger().error("v%s has no reference snapshot; drift checks of it will fail", version.version)
    return version


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def promote(version: str, decision, config: ModelConfig, reason: str):
    from registry.promotion import move_champion
    from registry.store import connect
    from retrain.runtime import actor

    return move_champion(
        config, connect(config), config.name, version, action="promote", reason=reason,
        actor=actor(), run_id=str(flow_run.get_id() or ""), metrics=decision.candidate_metrics,
    )


def build_lineage(intakes: list, split, config: ModelConfig) -> dict:
    from registry.lineage import BatchRef, build_lineage as build

    batches = [BatchRef(i.path.name, i.data_hash or "", i.frame) for i in intakes]
    return build(batches, split, config, run_id=str(flow_run.get_id() or ""))


def name_run() -> str:
    """``retrain-<config stem>-<trigger>`` reads better in the UI than a random name."""
    params = flow_run.parameters
    return f"retrain-{Path(params['config_path']).stem}-{params.get('trigger', 'manual')}"


@flow(name="retrain", flow_run_name=name_run, log_prints=True)
def retrain_flow(config_path: str, trigger: Trigger = "manual", reason: str = "") -> dict:
    """Retrain one model from its config; promote the candidate only if it beats the champion."""
    logger = get_run_logger()
    config = load_config(config_path)
    intakes = [intake_batch(path, config) for path in find_batches(config)]
    intakes = screen_timestamps(intakes, config)
    failed = [i for i in intakes if not i.accepted]
    if failed:
        moved = [quarantine(i, config) for i in failed]
        _, champion_version = current_champion(config)
        publish_invalid_batches(config.name, failed, moved)
        for i in failed:
            logger.error("batch %s failed validation: %s", i.path.name, i.report.summary())
        return RunOutcome(
            model=config.name, status="data_invalid", trigger=trigger, quarantined=moved,
            champion_version=champion_version, previous_champion=champion_version,
            validation=[i.report.to_dict() for i in intakes],
            message=f"{len(failed)} batch(es) failed validation and were quarantined; nothing registered",
        ).to_dict()

    split = split_data([i.frame for i in intakes], config)
    candidate = train(split, config)
    champion, champion_version = current_champion(config, load=True)
    decision = gate(candidate, champion, champion_version, split, config)
    lineage = build_lineage(intakes, split, config)
    version = register(candidate, split, decision, lineage, config)
    publish_decision(config.name, version.version, decision, trigger)
    outcome = RunOutcome(
        model=config.name, status="rejected", version=version.version, champion_version=champion_version,
        previous_champion=champion_version, trigger=trigger, decision=decision.to_dict(), lineage=lineage,
        validation=[i.report.to_dict() for i in intakes],
    )
    if not decision.promote:
        outcome.message = f"v{version.version} registered as challenger; gate rejected it"
        logger.info(outcome.message)
        return outcome.to_dict()
    if config.approval == "manual":
        from flows.approval import settle_by_approval

        return settle_by_approval(config, version.version, decision, outcome)
    promote(version.version, decision, config, reason or f"gate passed ({trigger})")
    outcome.status, outcome.champion_version = "promoted", version.version
    outcome.message = f"v{version.version} promoted to champion"
    logger.info(outcome.message)
    return outcome.to_dict()
