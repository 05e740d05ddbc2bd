"""The retrain flow's tasks: each wraps one logic-package call, adds retries where I/O can
fail transiently, and carries typed inputs and outputs so the flow reads as a plan."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from base.environment import actor
from base.settings import ModelConfig
from base.vocabulary import CHAMPION, RunStatus
from flows.common import IO_RETRIES
from flows.decision_events import announce_outside_moves
from monitoring.intake import Intake, check_batch
from monitoring.reference import build_snapshot
from monitoring.sources import list_batches
from monitoring.timestamps import find_implausible
from monitoring.validation import quarantine_batch
from registry.approvals import VersionOutcome, request_approval, set_outcome, settle
from registry.fingerprint import compute_fingerprint, fingerprint_of, recipe_of
from registry.ledger import open_ledger, utc_now
from registry.lineage import BatchRef, build_lineage
from registry.moves import reconcile
from registry.packaging import code_version
from registry.promotion import move_champion
from registry.promotion_types import PromotionResult, UnknownModel
from registry.search_runs import log_search
from registry.store import connect
from registry.types import VersionInfo
from registry.verdicts import block_reason, withheld_reason
from registry.versions import get_version, load_model, register_candidate
from serving.calibration import calibrate_model
from training.candidate import train_candidate
from training.data import DataError, frame_hash
from training.gate import decide_promotion
from training.search import train_winner
from training.search_types import SearchResult
from training.split import split_by_time
from training.types import Candidate, Decision, Split


@dataclass(frozen=True)
class DataProblem:
    """Data the run cannot use (no batch files, too few rows): the run ends ``data_invalid``."""

    message: str


@dataclass(frozen=True)
class ChampionState:
    """The champion when the run began: version, fingerprint, and a block on this run's data."""

    version: str | None
    fingerprint: str | None
    blocked: str | None


def run_id() -> str:
    return str(flow_run.get_id() or "")


@task(cache_policy=NO_CACHE, task_run_name="intake", **IO_RETRIES)
def intake_batches(config: ModelConfig) -> list[Intake] | DataProblem:
    """Every batch read and validated (known ones by size and mtime), timestamps screened.

    One task for all batches: a monthly model has dozens of files, and a task per file cost
    more in orchestration than re-checking a known file does.
    """
    try:
        paths = list_batches(config)
    except DataError as err:
        return DataProblem(str(err))
    intakes = [check_batch(path, config) for path in paths]
    flagged = find_implausible([i for i in intakes if i.accepted], config)
    return [replace(i, report=flagged[str(i.path)]) if str(i.path) in flagged else i for i in intakes]


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def quarantine(intake: Intake, config: ModelConfig) -> str:
    return str(quarantine_batch(intake.path, intake.report, config.quarantine_dir))


@task(cache_policy=NO_CACHE)
def prepare_training(frames: list[pd.DataFrame], config: ModelConfig) -> tuple[Split, str] | DataProblem:
    """The time split and the fingerprint the candidate would have (data hash, recipe, code)."""
    try:
        split = split_by_time(pd.concat(frames, ignore_index=True), config)
    except DataError as err:
        return DataProblem(str(err))
    return split, compute_fingerprint(frame_hash(split.train), recipe_of(config, code_version()))


@task(cache_policy=NO_CACHE)
def train(split: Split, config: ModelConfig) -> Candidate:
    return train_candidate(split, config)


@task(cache_policy=NO_CACHE)
def train_searched(split: Split, config: ModelConfig, search: SearchResult) -> Candidate:
    """The search's winner refitted on the whole training window."""
    return train_winner(split, config, search)


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def log_trials(config: ModelConfig, parent_run_id: str, search: SearchResult) -> list[str]:
    """Every trial as an MLflow child run of the candidate's run; a retry finds the ones it logged."""
    return log_search(connect(config), config, parent_run_id, search)


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def settle_model(config: ModelConfig) -> list[str]:
    """Record a champion moved outside Retrain, time out expired approvals, abandon stranded candidates."""
    try:
        client = connect(config)
        moved = reconcile(config, client, config.name)
        announce_outside_moves(config, moved)
        return [n.message for n in moved] + settle(config, client, config.name)
    except UnknownModel:
        return []


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def read_champion(config: ModelConfig, fingerprint: str, override: str) -> ChampionState:
    """The champion this run gates against, and whether a person's block stops the run early."""
    info = get_version(connect(config), config.name, CHAMPION)
    blocked = None if override else block_reason(open_ledger(config.ledger_url), config.name, fingerprint)
    if info is None:
        return ChampionState(None, None, blocked)
    return ChampionState(info.version, fingerprint_of(info.tags), blocked)


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def withheld_by_person(config: ModelConfig, fingerprint: str | None) -> str | None:
    """Why a hold or a block stops promoting now; asked before requesting a person's approval.

    An automatic promotion needs no such call: the compare-and-swap checks both atomically.
    """
    return withheld_reason(open_ledger(config.ledger_url), config.name, fingerprint)


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def current_champion(config: ModelConfig) -> str | None:
    """The champion's version now, None before the first one."""
    info = get_version(connect(config), config.name, CHAMPION)
    return None if info is None else info.version


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def gate(candidate: Candidate, champion_version: str | None, split: Split, config: ModelConfig) -> Decision:
    """Load the champion by number (not by alias, which may move meanwhile) and decide."""
    champion = None if champion_version is None else load_model(connect(config), config.name, champion_version)
    return decide_promotion(
        config.task, config, candidate.model, champion, split.holdout, candidate.features, champion_version
    )


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def register(
    candidate: Candidate, split: Split, decision: Decision, lineage: dict[str, Any], config: ModelConfig
) -> VersionInfo:
    """Model, lineage and drift reference in one registration; a retry finds the version it made.

    The serving threshold is chosen on the same holdout and recorded with the version."""
    serving = calibrate_model(
        config.task, candidate.model, split.holdout, candidate.features, config.data.target_column, config.serving
    )
    return register_candidate(
        connect(config),
        config,
        candidate.model,
        split.holdout[candidate.features].head(20),
        {**lineage, **serving.to_tags()},
        decision.candidate_metrics,
        params=candidate.params,
        decision=decision.to_dict(),
        reference=build_snapshot(split.train, candidate.features, config),
    )


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def promote(
    version: str, decision: Decision, config: ModelConfig, reason: str, fingerprint: str | None, automatic: bool
) -> PromotionResult:
    """Compare-and-swap: only if the champion is still the one the gate compared against."""
    return move_champion(
        config,
        connect(config),
        config.name,
        version,
        action="promote",
        reason=reason,
        actor=actor(),
        run_id=run_id(),
        metrics=decision.candidate_metrics,
        expect_current=decision.champion_version or "none",
        fingerprint=fingerprint,
        automatic=automatic,
    )


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def record_outcome(config: ModelConfig, version: str, outcome: RunStatus, note: str = "", trigger: str = "") -> None:
    """The version's final state (and what started its retrain) on its tags, so no candidate is left in limbo."""
    extra = {"outcome_note": note} if note else {}
    if trigger:
        extra["trigger"] = str(trigger)
    set_outcome(connect(config), config.name, version, VersionOutcome(outcome), **extra)


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def ask_for_approval(config: ModelConfig, version: str) -> list[str]:
    deadline = utc_now() + timedelta(hours=config.approval_timeout_hours)
    return request_approval(connect(config), config.name, version, deadline)


def lineage_of(intakes: list[Intake], split: Split, config: ModelConfig, fingerprint: str) -> dict[str, Any]:
    batches = [BatchRef(i.path.name, i.data_hash or "", i.frame) for i in intakes]
    return {**build_lineage(batches, split, config, run_id=run_id()), "fingerprint": fingerprint}
