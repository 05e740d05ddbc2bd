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

from flows.common import (IO_RETRIES, announce_champion_below_floor, publish_approval_request, publish_decision,
                          publish_invalid_batches)
from registry.promotion import failpoint
from retrain.config import ModelConfig, load_config
from retrain.references import check_references
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
def settle_model(config: ModelConfig) -> list[str]:
    """Time out expired approvals and abandon candidates a dead run left behind."""
    from registry.approvals import settle
    from registry.promotion import UnknownModel
    from registry.store import connect

    try:
        return settle(config, connect(config), config.name)
    except UnknownModel:
        return []


@task(cache_policy=NO_CACHE)
def fingerprint_run(split, config: ModelConfig) -> str:
    """The fingerprint the candidate would have: training data hash, recipe, code version."""
    from registry.fingerprint import compute_fingerprint, recipe_of
    from registry.versions import code_version
    from training.data import frame_hash

    return compute_fingerprint(frame_hash(split.train), recipe_of(config, code_version()))


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def champion_fingerprint(config: ModelConfig) -> tuple[str | None, str | None]:
    """(version, fingerprint) of the current champion, (None, None) before the first one."""
    from registry.fingerprint import fingerprint_of
    from registry.store import connect
    from registry.versions import get_version

    info = get_version(connect(config), config.name, "champion")
    return (None, None) if info is None else (info.version, fingerprint_of(info.tags))


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def withheld_by_person(config: ModelConfig, fingerprint: str | None, holds: bool = True) -> str | None:
    """Why a block (and, with ``holds``, a hold) stops an automatic promotion now.

    Checked again atomically when the champion moves; checking early saves training a
    model that cannot be promoted.
    """
    from registry.ledger import open_ledger
    from registry.verdicts import block_reason, withheld_reason

    ledger = open_ledger(config.ledger_url)
    return withheld_reason(ledger, config.name, fingerprint) if holds else block_reason(ledger, config.name, fingerprint)


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def current_champion(config: ModelConfig) -> str | None:
    """The champion's version now, None before the first one."""
    from registry.store import connect
    from registry.versions import get_version

    info = get_version(connect(config), config.name, "champion")
    return None if info is None else info.version


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def load_version(config: ModelConfig, version: str | None):
    """The model of ``version`` by number (not by alias, which may move meanwhile)."""
    from registry.store import connect
    from registry.versions import load_model

    return None if version is None else load_model(connect(config), config.name, version)


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
def promote(version: str, decision, config: ModelConfig, reason: str, fingerprint: str, automatic: bool):
    """Compare-and-swap: only if the champion is still the one the gate compared against."""
    from registry.promotion import move_champion
    from registry.store import connect
    from retrain.runtime import actor

    return move_champion(
        config, connect(config), config.name, version, action="promote", reason=reason,
        actor=actor(), run_id=str(flow_run.get_id() or ""), metrics=decision.candidate_metrics,
        expect_current=decision.champion_version or "none", fingerprint=fingerprint, automatic=automatic,
    )


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def record_outcome(config: ModelConfig, version: str, outcome: str, note: str = "") -> None:
    """The version's final state on its tags, so no candidate is left in limbo."""
    from registry.approvals import set_outcome
    from registry.store import connect

    set_outcome(connect(config), config.name, version, outcome, **({"outcome_note": note} if note else {}))


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def ask_for_approval(config: ModelConfig, version: str) -> list[str]:
    from datetime import timedelta

    from registry.approvals import request_approval
    from registry.ledger import utc_now
    from registry.store import connect

    deadline = utc_now() + timedelta(hours=config.approval_timeout_hours)
    return request_approval(connect(config), config.name, version, deadline)


def build_lineage(intakes: list, split, config: ModelConfig) -> dict:
    from registry.lineage import BatchRef, build_lineage as build

    batches = [BatchRef(i.path.name, i.data_hash or "", i.frame) for i in intakes]
    return build(batches, split, config, run_id=str(flow_run.get_id() or ""))


def name_run() -> str:
    """``retrain-<config stem>-<trigger>`` reads better in the UI than a random name."""
    params = flow_run.parameters
    return f"retrain-{Path(params['config_path']).stem}-{params.get('trigger', 'manual')}"


@flow(name="retrain", flow_run_name=name_run, log_prints=True)
def retrain_flow(config_path: str, trigger: Trigger = "manual", reason: str = "",
                 wait_seconds: float | None = None, override: str = "") -> dict:
    """Retrain one model from its config; promote the candidate only if it beats the champion.

    One retrain per model runs at a time (the run lease); a second one waits up to
    ``wait_seconds`` (default: the config's ``runs.wait_seconds``) and otherwise ends ``busy``.
    ``override`` (a reason, manual runs only) lets a person's run promote past a hold or block.
    """
    from registry.leases import RunBusy, acquire_run_lease
    from registry.ledger import open_ledger
    from retrain.runtime import actor

    config = load_config(config_path)
    check_references(config)  # deployment runs get the same early, clear errors as the CLI
    wait = config.runs.wait_seconds if wait_seconds is None else wait_seconds
    try:
        lease = acquire_run_lease(open_ledger(config.ledger_url), config.name, owner=actor(),
                                  run_id=str(flow_run.get_id() or ""), ttl=config.runs.lease_ttl, wait=wait)
    except RunBusy as err:
        get_run_logger().warning(str(err))
        return RunOutcome(model=config.name, status="busy", trigger=trigger, message=str(err)).to_dict()
    try:
        return retrain_with_lease(config, trigger, reason, override if trigger == "manual" else "").to_dict()
    finally:
        lease.release()


def retrain_with_lease(config: ModelConfig, trigger: str, reason: str, override: str) -> RunOutcome:
    """The retrain proper; the caller holds the model's run lease."""
    logger = get_run_logger()
    notes = settle_model(config)
    intakes = [intake_batch(path, config) for path in find_batches(config)]
    intakes = screen_timestamps(intakes, config)
    failed = [i for i in intakes if not i.accepted]
    for i in intakes:  # failed ``warn`` expectations let the batch through, and are logged
        if i.report.warnings and i.report.success and not i.cached:
            logger.warning("batch %s passed with warnings: %s", i.path.name, i.report.summary())
    if failed:
        moved = [quarantine(i, config) for i in failed]
        champion_version = current_champion(config)
        publish_invalid_batches(config.name, failed, moved)
        for i in failed:
            logger.error("batch %s failed validation: %s", i.path.name, i.report.summary())
        return RunOutcome(
            model=config.name, status="data_invalid", trigger=trigger, quarantined=moved,
            champion_version=champion_version, previous_champion=champion_version, notes=notes,
            validation=[i.report.to_dict() for i in intakes],
            message=f"{len(failed)} batch(es) failed validation and were quarantined; nothing registered",
        )

    split = split_data([i.frame for i in intakes], config)
    fingerprint = fingerprint_run(split, config)
    champion_version, champion_fp = champion_fingerprint(config)
    base = dict(model=config.name, trigger=trigger, champion_version=champion_version, notes=notes,
                previous_champion=champion_version, fingerprint=fingerprint,
                validation=[i.report.to_dict() for i in intakes])
    if champion_fp == fingerprint:
        return finish(config, RunOutcome(status="unchanged", **base, message=(
            f"same data, recipe and code as champion v{champion_version} (fingerprint {fingerprint}); "
            "nothing registered")))
    blocked = None if override else withheld_by_person(config, fingerprint, holds=False)
    if blocked:
        return finish(config, RunOutcome(status="withheld", **base, message=f"nothing trained or registered: {blocked}"))

    champion = load_version(config, champion_version)  # the champion when this run began
    candidate = train(split, config)
    decision = gate(candidate, champion, champion_version, split, config)
    lineage = {**build_lineage(intakes, split, config), "fingerprint": fingerprint}
    version = register(candidate, split, decision, lineage, config).version
    failpoint("after_register")
    publish_decision(config.name, version, decision, trigger)
    if decision.champion_below_floor:
        announce_champion_below_floor(config.name, version, decision)
    outcome = RunOutcome(status="rejected", version=version, decision=decision.to_dict(), lineage=lineage, **base)
    return settle_candidate(config, outcome, decision, reason or f"gate passed ({trigger})", override)


def settle_candidate(config: ModelConfig, outcome: RunOutcome, decision, reason: str, override: str) -> RunOutcome:
    """Branch on the gate, a person's hold, approval mode and the compare-and-swap."""
    from registry.promotion import ExpectationMismatch, PromotionWithheld

    version = outcome.version
    if not decision.promote:
        outcome.message = f"v{version} registered as challenger; gate rejected it"
        return finish(config, outcome, version)
    held = None if override else withheld_by_person(config, outcome.fingerprint)
    if held:
        outcome.status, outcome.message = "withheld", f"v{version} passed the gate but is not promoted: {held}"
        return finish(config, outcome, version)
    if config.approval == "manual":
        outcome.notes += ask_for_approval(config, version)
        outcome.status = "pending_approval"
        outcome.message = (f"v{version} passed the gate and waits for approval for {config.approval_timeout_hours:g} h: "
                           f"`retrain approve {config.name} {version}` or the approve/{config.name} deployment")
        publish_approval_request(config.name, version, decision, outcome.message)
        return finish(config, outcome)
    if override:
        reason = f"{reason} (override: {override})"
    try:
        promote(version, decision, config, reason, outcome.fingerprint, automatic=not override)
    except ExpectationMismatch as err:
        outcome.status = "superseded"
        outcome.message = (f"v{version} not promoted: it was gated against v{err.expected or '-'}, but the champion "
                           f"is now {err.actual or 'none'} (moved by a person meanwhile)")
        return finish(config, outcome, version)
    except PromotionWithheld as err:
        outcome.status, outcome.message = "withheld", str(err)
        return finish(config, outcome, version)
    outcome.status, outcome.champion_version = "promoted", version
    outcome.message = f"v{version} promoted to champion"
    return finish(config, outcome, version)


def finish(config: ModelConfig, outcome: RunOutcome, version: str | None = None) -> RunOutcome:
    """Log the outcome and, for a registered version, record it on the version's tags."""
    if version is not None:
        record_outcome(config, version, outcome.status, outcome.message)
    get_run_logger().info(outcome.message)
    return outcome
