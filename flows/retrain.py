"""``retrain_flow``: lease → load → validate → train → evaluate → gate → register → promote.

The flow only wires the logic packages (as the tasks in ``flows.retrain_tasks``), holds the
model's run lease, branches on the gate's decision and on a person's verdicts, and publishes
the decision as an artifact a person can read in the UI.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from base.environment import actor, failpoint
from base.outcome import RunOutcome
from base.settings import ModelConfig, load_config
from base.vocabulary import RunStatus, Trigger
from flows.common import publish_approval_request, publish_decision, publish_invalid_batches
from flows.decision_events import announce_champion_below_floor, announce_failure, announce_outcome
from flows.retrain_tasks import (
    DataProblem,
    ask_for_approval,
    current_champion,
    gate,
    intake_batches,
    lineage_of,
    log_trials,
    prepare_training,
    promote,
    quarantine,
    read_champion,
    record_outcome,
    register,
    run_id,
    settle_model,
    train,
    train_searched,
    withheld_by_person,
)
from flows.search import search_candidates
from monitoring.preflight import check_references
from monitoring.quarantine import release_hint
from registry.leases import RunBusy, acquire_run_lease
from registry.ledger import open_ledger
from registry.promotion_types import ExpectationMismatch, PromotionWithheld
from registry.run_verdict import RunFacts, RunVerdict, Step, decide_run
from training.types import Decision


def name_run() -> str:
    """``retrain-<config stem>-<trigger>`` reads better in the UI than a random name."""
    params = flow_run.parameters
    return f"retrain-{Path(params['config_path']).stem}-{params.get('trigger', 'manual')}"


@flow(name="retrain", flow_run_name=name_run, log_prints=True)
def retrain_flow(
    config_path: str,
    trigger: Trigger = Trigger.MANUAL,
    reason: str = "",
    wait_seconds: float | None = None,
    override: str = "",
) -> RunOutcome:
    """Retrain one model from its config; promote the candidate only if it beats the champion.

    One retrain per model runs at a time (the run lease); a second one waits up to
    ``wait_seconds`` (default: the config's ``runs.wait_seconds``) and otherwise ends ``busy``.
    ``override`` (a reason, manual runs only) lets a person's run promote past a hold or block.
    """
    config = load_config(config_path)
    check_references(config)  # deployment runs get the same early, clear errors as the CLI
    wait = config.runs.wait_seconds if wait_seconds is None else wait_seconds
    try:
        lease = acquire_run_lease(
            open_ledger(config.ledger_url),
            config.name,
            owner=actor(),
            run_id=run_id(),
            ttl=config.runs.lease_ttl,
            wait=wait,
        )
    except RunBusy as err:
        get_run_logger().warning(str(err))
        return RunOutcome(model=config.name, status=RunStatus.BUSY, trigger=trigger, message=str(err))
    try:
        outcome = retrain_with_lease(config, Trigger(trigger), reason, override if trigger == Trigger.MANUAL else "")
    except Exception as err:  # the run ends by an error: said once, then raised as before
        announce_failure(config, err)
        raise
    finally:
        lease.release()
    announce_outcome(config, outcome)
    return outcome


def retrain_with_lease(config: ModelConfig, trigger: Trigger, reason: str, override: str) -> RunOutcome:
    """The retrain proper; the caller holds the model's run lease."""
    logger = get_run_logger()
    notes = settle_model(config)
    intakes = intake_batches(config)
    if isinstance(intakes, DataProblem):
        return data_problem(config, trigger, notes, intakes)
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
            model=config.name,
            status=RunStatus.DATA_INVALID,
            trigger=trigger,
            quarantined=moved,
            champion_version=champion_version,
            previous_champion=champion_version,
            notes=notes,
            validation=[i.report.to_dict() for i in intakes],
            message=f"{len(failed)} batch(es) failed validation and were quarantined; nothing registered; "
            + release_hint(config, [i.report for i in failed], moved),
        )

    prepared = prepare_training([i.frame for i in intakes], config)
    if isinstance(prepared, DataProblem):
        return data_problem(config, trigger, notes, prepared)
    split, fingerprint = prepared
    champion = read_champion(config, fingerprint, override)
    champion_version = champion.version
    base: dict = dict(
        model=config.name,
        trigger=trigger,
        champion_version=champion_version,
        notes=notes,
        previous_champion=champion_version,
        fingerprint=fingerprint,
        validation=[i.report.to_dict() for i in intakes],
    )
    facts = RunFacts(
        fingerprint=fingerprint,
        champion_fingerprint=champion.fingerprint,
        manual_approval=config.approval == "manual" or config.gate.promote_after_shadow is not None,
        override=bool(override),
        blocked=champion.blocked,
    )
    verdict = decide_run(facts)
    if verdict.step is Step.UNCHANGED:
        message = (
            f"same data, recipe and code as champion v{champion_version} (fingerprint {fingerprint}); "
            "nothing registered"
        )
        return finish(config, RunOutcome(status=verdict.ending(), **base, message=message))
    if verdict.step is Step.BLOCKED:
        message = f"nothing trained or registered: {verdict.why}"
        return finish(config, RunOutcome(status=verdict.ending(), **base, message=message))

    search = search_candidates(split, config) if config.search is not None else None
    candidate = train(split, config) if search is None else train_searched(split, config, search)
    decision = gate(candidate, champion_version, split, config)  # against the champion when this run began
    lineage = {**lineage_of(intakes, split, config, fingerprint), **candidate.lineage}
    registered = register(candidate, split, decision, lineage, config)
    version = registered.version
    failpoint("after_register")
    summary = None
    if search is not None and config.search is not None:
        log_trials(config, registered.run_id or "", search)
        summary = search.to_dict(top=config.search.top)
    publish_decision(config.name, version, decision, trigger, summary)
    if decision.champion_below_floor:
        announce_champion_below_floor(config.name, version, decision)
    outcome = RunOutcome(
        status=RunStatus.REJECTED, version=version, decision=decision, lineage=lineage, search=summary, **base
    )
    gated = replace(facts, gate_passed=decision.promote)
    # a person is asked only under manual approval; an automatic promotion is checked inside the compare-and-swap
    asks_person = decision.promote and facts.manual_approval and not override
    verdict = decide_run(replace(gated, held=withheld_by_person(config, fingerprint) if asks_person else None))
    return settle_candidate(config, outcome, decision, verdict, reason or f"gate passed ({trigger})", override)


def settle_candidate(
    config: ModelConfig, outcome: RunOutcome, decision: Decision, verdict: RunVerdict, reason: str, override: str
) -> RunOutcome:
    """Act on the verdict after the gate: reject, hold, ask for approval, or compare-and-swap."""
    version = str(outcome.version)
    if verdict.step is Step.REJECTED:
        outcome.status = verdict.ending()
        outcome.message = f"v{version} registered as challenger; gate rejected it"
        return finish(config, outcome, version)
    if verdict.step is Step.HELD:
        outcome.status = verdict.ending()
        outcome.message = f"v{version} passed the gate but is not promoted: {verdict.why}"
        return finish(config, outcome, version)
    if verdict.step is Step.APPROVAL:
        outcome.notes += ask_for_approval(config, version)
        outcome.status = verdict.ending()
        outcome.message = (
            f"v{version} passed the gate and waits for approval for {config.approval_timeout_hours:g} h: "
            f"`retrain approve {config.name} {version}` or the approve/{config.name} deployment"
        )
        if config.gate.promote_after_shadow is not None:
            outcome.message = (
                f"v{version} passed the gate and waits as challenger, scored in the shadows, until live labels "
                f"decide (`retrain feedback`, gate.promote_after_shadow) within {config.approval_timeout_hours:g} h"
            )
        publish_approval_request(config.name, version, decision, outcome.message)
        return finish(config, outcome)
    if override:
        reason = f"{reason} (override: {override})"
    try:
        promote(version, decision, config, reason, outcome.fingerprint, automatic=not override)
    except ExpectationMismatch as err:
        outcome.status = RunStatus.SUPERSEDED
        outcome.message = (
            f"v{version} not promoted: it was gated against v{err.expected or '-'}, but the champion "
            f"is now {err.actual or 'none'} (moved by a person meanwhile)"
        )
        return finish(config, outcome, version)
    except PromotionWithheld as err:
        outcome.status, outcome.message = RunStatus.WITHHELD, str(err)
        return finish(config, outcome, version)
    outcome.status, outcome.champion_version = verdict.ending(), version
    outcome.message = f"v{version} promoted to champion"
    return finish(config, outcome, version)


def data_problem(config: ModelConfig, trigger: Trigger, notes: list[str], problem: DataProblem) -> RunOutcome:
    """No usable data (no batch files, too few rows): a clear outcome, nothing registered."""
    get_run_logger().error(problem.message)
    return RunOutcome(
        model=config.name,
        status=RunStatus.DATA_INVALID,
        trigger=trigger,
        notes=notes,
        message=f"{problem.message}; nothing registered",
    )


def finish(config: ModelConfig, outcome: RunOutcome, version: str | None = None) -> RunOutcome:
    """Log the outcome and, for a registered version, record it on the version's tags."""
    if version is not None:
        record_outcome(config, version, outcome.status, outcome.message, trigger=outcome.trigger)
    get_run_logger().info(outcome.message)
    return outcome
