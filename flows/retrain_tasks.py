"""The retrain flow's tasks: each wraps one logic-package call, adds retries where I/O can
fail transiently, and carries typed inputs and outputs so the flow reads as a plan."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from base.environment import actor
from base.settings import ModelConfig
from base.vocabulary import CHAMPION, RunStatus
from flows.common import IO_RETRIES
from monitoring.intake import Intake, check_batch
from monitoring.reference import build_snapshot
from monitoring.timestamps import find_implausible
from monitoring.validation import quarantine_batch
from registry.approvals import request_approval, set_outcome, settle
from registry.fingerprint import compute_fingerprint, fingerprint_of, recipe_of
from registry.ledger import open_ledger, utc_now
from registry.lineage import BatchRef, build_lineage
from registry.promotion import PromotionResult, UnknownModel, move_champion
from registry.store import connect
from registry.types import VersionInfo
from registry.verdicts import block_reason, withheld_reason
from registry.versions import code_version, get_version, load_model, register_candidate
from training.data import find_batches, frame_hash
from training.gate import decide_promotion
from training.pipeline import train_candidate
from training.split import split_by_time
from training.types import Candidate, Decision, Split


def run_id() -> str:
    return str(flow_run.get_id() or "")


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def list_batches(config: ModelConfig) -> list[Path]:
    return find_batches(config.data_glob)


@task(cache_policy=NO_CACHE, task_run_name="intake-{path.name}", **IO_RETRIES)
def intake_batch(path: Path, config: ModelConfig) -> Intake:
    return check_batch(path, config)


@task(cache_policy=NO_CACHE)
def screen_timestamps(intakes: list[Intake], config: ModelConfig) -> list[Intake]:
    """Fail accepted batches whose timestamps would break the time split (future, far off)."""
    flagged = find_implausible([i for i in intakes if i.accepted], config)
    return [replace(i, report=flagged[str(i.path)]) if str(i.path) in flagged else i for i in intakes]


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def quarantine(intake: Intake, config: ModelConfig) -> str:
    return str(quarantine_batch(intake.path, intake.report, config.quarantine_dir))


@task(cache_policy=NO_CACHE)
def split_data(frames: list[pd.DataFrame], config: ModelConfig) -> Split:
    return split_by_time(pd.concat(frames, ignore_index=True), config)


@task(cache_policy=NO_CACHE)
def train(split: Split, config: ModelConfig) -> Candidate:
    return train_candidate(split, config)


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def settle_model(config: ModelConfig) -> list[str]:
    """Time out expired approvals and abandon candidates a dead run left behind."""
    try:
        return settle(config, connect(config), config.name)
    except UnknownModel:
        return []


@task(cache_policy=NO_CACHE)
def fingerprint_run(split: Split, config: ModelConfig) -> str:
    """The fingerprint the candidate would have: training data hash, recipe, code version."""
    return compute_fingerprint(frame_hash(split.train), recipe_of(config, code_version()))


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def champion_fingerprint(config: ModelConfig) -> tuple[str | None, str | None]:
    """(version, fingerprint) of the current champion, (None, None) before the first one."""
    info = get_version(connect(config), config.name, CHAMPION)
    return (None, None) if info is None else (info.version, fingerprint_of(info.tags))


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def withheld_by_person(config: ModelConfig, fingerprint: str | None, holds: bool = True) -> str | None:
    """Why a block (and, with ``holds``, a hold) stops an automatic promotion now.

    Checked again atomically when the champion moves; checking early saves training a
    model that cannot be promoted.
    """
    ledger = open_ledger(config.ledger_url)
    if holds:
        return withheld_reason(ledger, config.name, fingerprint)
    return block_reason(ledger, config.name, fingerprint)


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def current_champion(config: ModelConfig) -> str | None:
    """The champion's version now, None before the first one."""
    info = get_version(connect(config), config.name, CHAMPION)
    return None if info is None else info.version


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def load_version(config: ModelConfig, version: str | None) -> Any:
    """The model of ``version`` by number (not by alias, which may move meanwhile)."""
    return None if version is None else load_model(connect(config), config.name, version)


@task(cache_policy=NO_CACHE)
def gate(
    candidate: Candidate, champion: Any, champion_version: str | None, split: Split, config: ModelConfig
) -> Decision:
    return decide_promotion(
        config.task, config, candidate.model, champion, split.holdout, candidate.features, champion_version
    )


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def register(
    candidate: Candidate, split: Split, decision: Decision, lineage: dict[str, Any], config: ModelConfig
) -> VersionInfo:
    """Model, lineage and drift reference in one registration; a retry finds the version it made."""
    return register_candidate(
        connect(config),
        config,
        candidate.model,
        split.holdout[candidate.features].head(20),
        lineage,
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
    set_outcome(connect(config), config.name, version, outcome, **extra)


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def ask_for_approval(config: ModelConfig, version: str) -> list[str]:
    deadline = utc_now() + timedelta(hours=config.approval_timeout_hours)
    return request_approval(connect(config), config.name, version, deadline)


def lineage_of(intakes: list[Intake], split: Split, config: ModelConfig, fingerprint: str) -> dict[str, Any]:
    batches = [BatchRef(i.path.name, i.data_hash or "", i.frame) for i in intakes]
    return {**build_lineage(batches, split, config, run_id=run_id()), "fingerprint": fingerprint}
