"""A dry run of the retrain: everything the flow decides, nothing it writes.

CI asks "would this config change pass the gate against today's champion?" on a pull
request. Answering it must not register a version, move an alias, write the ledger or the
intake records, nor quarantine a batch, so this path calls the same logic functions as the
flow's tasks but only their reading halves, and it runs without Prefect (no server, no
run lease: nothing here could collide with a real run's writes).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from base.outcome import RunOutcome
from base.vocabulary import CHAMPION, RunStatus, Trigger
from monitoring.intake import Intake, check_batch
from monitoring.timestamps import find_implausible
from registry.run_verdict import RunFacts, RunVerdict, Step, decide_run

if TYPE_CHECKING:
    from base.settings import ModelConfig


def dry_run(config: "ModelConfig", trigger: Trigger = Trigger.MANUAL, override: str = "") -> RunOutcome:
    """The outcome a real run would reach now, with ``dry_run`` set and nothing stored."""
    from monitoring.sources import list_batches

    intakes = screen([check_batch(path, config, remember=False) for path in list_batches(config, take=False)], config)
    base: dict[str, Any] = dict(
        model=config.name, trigger=trigger, dry_run=True, validation=[i.report.to_dict() for i in intakes]
    )
    failed = [i for i in intakes if not i.accepted]
    if failed:
        return RunOutcome(
            status=RunStatus.DATA_INVALID,
            notes=[f"would quarantine {i.path}" for i in failed],
            message=f"{len(failed)} batch(es) fail validation; a real run would quarantine them and register nothing",
            **base,
        )
    return gate_candidate(config, intakes, base, override)


def screen(intakes: list[Intake], config: "ModelConfig") -> list[Intake]:
    """The flow's timestamp screen: implausible timestamps fail an otherwise accepted batch."""
    flagged = find_implausible([i for i in intakes if i.accepted], config)
    return [replace(i, report=flagged[str(i.path)]) if str(i.path) in flagged else i for i in intakes]


def gate_candidate(config: "ModelConfig", intakes: list[Intake], base: dict[str, Any], override: str) -> RunOutcome:
    """Split, train, and gate against the champion read from the registry by version number."""
    import pandas as pd

    from registry.fingerprint import compute_fingerprint, fingerprint_of, recipe_of
    from registry.lineage import BatchRef, build_lineage
    from registry.packaging import code_version
    from registry.versions import get_version, load_model
    from training.candidate import train_candidate
    from training.data import frame_hash
    from training.gate import decide_promotion
    from training.search import run_search_locally, train_winner
    from training.split import split_by_time

    split = split_by_time(pd.concat([i.frame for i in intakes], ignore_index=True), config)
    fingerprint = compute_fingerprint(frame_hash(split.train), recipe_of(config, code_version()))
    client = read_client(config)
    info = None if client is None else get_version(client, config.name, CHAMPION)
    champion_version = None if info is None else info.version
    lineage = build_lineage([BatchRef(i.path.name, i.data_hash or "", i.frame) for i in intakes], split, config)
    base.update(
        champion_version=champion_version,
        previous_champion=champion_version,
        fingerprint=fingerprint,
        lineage={**lineage, "fingerprint": fingerprint},
    )
    facts = RunFacts(
        fingerprint=fingerprint,
        champion_fingerprint=None if info is None else fingerprint_of(info.tags),
        manual_approval=config.approval == "manual",
        override=bool(override),
        blocked=None if override else read_verdict(config, fingerprint, holds=False),
    )
    before = decide_run(facts)
    if before.step is not Step.TRAIN:
        return RunOutcome(status=before.ending(), message=would_end(before, champion_version), **base)
    champion = None if champion_version is None else load_model(client, config.name, champion_version)
    search = run_search_locally(split, config) if config.search is not None else None
    candidate = train_candidate(split, config) if search is None else train_winner(split, config, search)
    decision = decide_promotion(
        config.task, config, candidate.model, champion, split.holdout, candidate.features, champion_version
    )
    held = None if override or not decision.promote else read_verdict(config, fingerprint, holds=True)
    after = decide_run(replace(facts, gate_passed=decision.promote, held=held))
    summary = None if search is None or config.search is None else search.to_dict(top=config.search.top)
    message = would_end(after, champion_version)
    return RunOutcome(status=after.ending(), decision=decision, message=message, search=summary, **base)


def would_end(verdict: RunVerdict, champion_version: str | None = None) -> str:
    """What the flow would do at the verdict's step, said for a run that did not do it."""
    return {
        Step.UNCHANGED: (
            f"same data, recipe and code as champion v{champion_version}; a real run would register nothing"
        ),
        Step.BLOCKED: f"a real run would train nothing: {verdict.why}",
        Step.TRAIN: "a real run would train a candidate and gate it",
        Step.REJECTED: "the gate would reject the candidate (it would be registered as challenger)",
        Step.HELD: f"the candidate would pass the gate but not be promoted: {verdict.why}",
        Step.APPROVAL: "the candidate would pass the gate and wait for a person's approval",
        Step.PROMOTE: "the candidate would pass the gate and be promoted to champion",
    }[verdict.step]


def read_client(config: "ModelConfig") -> Any:
    """A registry client that creates nothing: no experiment, no home folder, no global URIs.

    None for a local registry that does not exist yet (opening it would create it): it has
    no champion.
    """
    from registry.store import client_for

    uri = config.tracking_uri
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        return None
    return client_for(uri)


def read_verdict(config: "ModelConfig", fingerprint: str, holds: bool) -> str | None:
    """A person's block (and with ``holds`` a hold) on this model; no ledger file means none.

    Opening a ledger creates its tables, so a local ledger that does not exist yet is not
    opened: it cannot hold a verdict.
    """
    from registry.ledger import open_ledger
    from registry.verdicts import block_reason, withheld_reason

    url = config.ledger_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return None
    ledger = open_ledger(url)
    return (
        withheld_reason(ledger, config.name, fingerprint) if holds else block_reason(ledger, config.name, fingerprint)
    )
