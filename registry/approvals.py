"""What became of each candidate, and the candidates that wait for a person.

Every version a retrain registers ends with a ``retrain.outcome`` tag (promoted, rejected,
superseded, withheld, pending_approval, approved, approval_rejected, timed_out, abandoned),
so the registry alone tells whether a version is still in play.

Approval is a state of the version, not a paused process: with ``approval: manual`` a
retrain that passed the gate tags its version ``pending_approval`` with a deadline and
ends. Anyone answers later (``retrain approve``, the ``approve`` deployment's form in the
Prefect UI), and the promotion goes through the ledger's compare-and-swap against the
champion the gate compared with. Nothing waits in memory, so no server restart, worker
restart or concurrency lease can lose an approval.

A version left ``gate.decision=promote`` without an outcome by a run that died (and no
longer holds the model's run lease) is marked ``abandoned`` by the next command that
touches the model; its candidate is not promoted on evidence nobody can re-check.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from base.errors import Kind
from registry.champion import read_champion
from registry.leases import current_holder
from registry.ledger import LedgerStatus, open_ledger, utc_now
from registry.promotion import move_champion
from registry.promotion_types import ExpectationMismatch, PromotionError
from registry.verdicts import add_block

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from registry.ledger import StoreLocation

OUTCOME_TAG = "retrain.outcome"
LEGACY_OUTCOME_TAG = "base.outcome"  # the key versions registered before were tagged with; still read
DEADLINE_TAG = "retrain.approval_deadline"
COMPARED_TAG = "gate.champion_version"


class VersionOutcome(StrEnum):
    """The ``retrain.outcome`` tag: what became of a registered candidate (stored as its value)."""

    PROMOTED = "promoted"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"
    WITHHELD = "withheld"
    PENDING_APPROVAL = "pending_approval"
    APPROVAL_REJECTED = "approval_rejected"
    TIMED_OUT = "timed_out"
    ABANDONED = "abandoned"


class ApprovalVerdict(StrEnum):
    """A person's answer to a waiting candidate, as ``ApprovalAnswer.verdict`` reports it."""

    APPROVED = "approved"
    APPROVAL_REJECTED = "approval_rejected"
    SUPERSEDED = "superseded"


class ApprovalState(StrEnum):
    """The ``retrain.approval`` tag: how the wait for a person ended."""

    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"
    TIMED_OUT = "timed_out"


PENDING = VersionOutcome.PENDING_APPROVAL


class ApprovalClosed(PromotionError):
    """The version does not wait for approval (any more); the message says what became of it."""

    kind = Kind.USAGE


@dataclass(frozen=True)
class ApprovalAnswer:
    """A person's answer to a waiting candidate and what it did."""

    model: str
    version: str
    verdict: ApprovalVerdict
    approver: str
    comment: str
    at: str
    champion: str | None
    message: str
    previous_champion: str | None = None  # the champion the gate compared the candidate with

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def set_outcome(client: "MlflowClient", model: str, version: str, outcome: VersionOutcome, **extra: str) -> None:
    """Record the version's final state (and any extra ``retrain.*`` tags) on the version."""
    client.set_model_version_tag(model, str(version), OUTCOME_TAG, outcome)
    for key, value in extra.items():
        client.set_model_version_tag(model, str(version), f"retrain.{key}", value)


def _versions(client: "MlflowClient", model: str) -> list[Any]:
    return list(client.search_model_versions(f"name = '{model}'", max_results=1000))


def request_approval(client: "MlflowClient", model: str, version: str, deadline: datetime) -> list[str]:
    """Mark ``version`` as waiting until ``deadline``; older waiting candidates are superseded."""
    notes = []
    for mv in _versions(client, model):
        if outcome_of(mv.tags or {}) == PENDING and str(mv.version) != str(version):
            set_outcome(
                client,
                model,
                mv.version,
                VersionOutcome.SUPERSEDED,
                superseded_by=f"v{version} passed a later gate and waits instead",
            )
            notes.append(f"v{mv.version} no longer waits: v{version} replaces it")
    set_outcome(client, model, version, PENDING, approval_deadline=deadline.isoformat(timespec="seconds"))
    return notes


def waiting_version(client: "MlflowClient", model: str) -> str | None:
    """The newest version that waits for approval, if any."""
    waiting = [int(mv.version) for mv in _versions(client, model) if outcome_of(mv.tags or {}) == PENDING]
    return str(max(waiting)) if waiting else None


def _expired(tags: dict[str, str], now: datetime) -> bool:
    deadline = tags.get(DEADLINE_TAG)
    return deadline is not None and datetime.fromisoformat(deadline) <= now


def settle(config: "StoreLocation", client: "MlflowClient", model: str) -> list[str]:
    """Time out expired approvals and abandon stranded candidates; returns what it decided."""
    versions = _versions(client, model)  # listed before the lease check: newer ones are in flight
    ledger = open_ledger(config.ledger_url)
    if current_holder(ledger, model) is not None:
        return []
    now, notes = utc_now(), []
    promoted = {e.to_version for e in ledger.entries(model, LedgerStatus.APPLIED)}
    try:
        champion = read_champion(client, model)
    except PromotionError:
        return []
    for mv in versions:
        tags, number = mv.tags or {}, str(mv.version)
        if outcome_of(tags) == PENDING and _expired(tags, now):
            set_outcome(
                client,
                model,
                number,
                VersionOutcome.TIMED_OUT,
                approval=ApprovalState.TIMED_OUT,
                approval_at=now.isoformat(timespec="seconds"),
            )
            notes.append(f"v{number} waited past its approval deadline {tags[DEADLINE_TAG]}: timed out")
        elif (
            tags.get("gate.decision") == "promote"
            and outcome_of(tags) is None
            and "retrain.approval" not in tags
            and number != champion
            and number not in promoted
        ):
            why = (
                f"the run that registered it (flow run {tags.get('flow_run_id') or '-'}) ended before "
                "promoting it; retrain to gate a candidate again"
            )
            set_outcome(client, model, number, VersionOutcome.ABANDONED, abandoned_reason=why)
            notes.append(f"v{number} abandoned: {why}")
    return notes


def _closed_message(model: str, version: str, tags: dict[str, str]) -> str:
    outcome = outcome_of(tags) or f"gate decision {tags.get('gate.decision', 'unknown')}"
    hints: dict[str, str] = {
        VersionOutcome.TIMED_OUT: "retrain to get a new candidate",
        VersionOutcome.SUPERSEDED: f"answer the newer candidate (`retrain approve {model}`)",
        VersionOutcome.PROMOTED: "it already is or was champion; see `retrain history`",
    }
    hint = hints.get(outcome, "see `retrain status`")
    return f"v{version} of {model!r} does not wait for approval: it is {outcome}; {hint}"


def answer_approval(
    config: "StoreLocation",
    client: "MlflowClient",
    model: str,
    version: str | None,
    approve: bool,
    approver: str,
    comment: str = "",
    run_id: str | None = None,
) -> ApprovalAnswer:
    """Approve (promote through the compare-and-swap) or reject a waiting candidate.

    A rejection blocks the candidate's fingerprint like a rollback does. An approval after
    the champion moved (someone promoted or rolled back meanwhile) ends ``superseded``: the
    gate compared the candidate with a champion that is no longer there. A hold refuses an
    approval too (``PromotionWithheld``; the version keeps waiting): release the hold first.
    """
    settle(config, client, model)
    version = version or waiting_version(client, model)
    if version is None:
        raise ApprovalClosed(model, f"no version of {model!r} waits for approval")
    tags = dict(client.get_model_version(model, str(version)).tags or {})
    if outcome_of(tags) != PENDING:
        raise ApprovalClosed(model, _closed_message(model, str(version), tags))
    at = utc_now().isoformat(timespec="seconds")
    words = f"v{version} {'approved' if approve else 'rejected'} by {approver}" + (f": {comment}" if comment else "")
    record = dict(approval_by=approver, approval_comment=comment, approval_at=at, approval_run=run_id or "")
    if not approve:
        ledger = open_ledger(config.ledger_url)
        with ledger.lock(model):
            add_block(ledger, model, str(version), tags.get("fingerprint"), words, approver)
        set_outcome(
            client, model, str(version), VersionOutcome.APPROVAL_REJECTED, approval=ApprovalState.REJECTED, **record
        )
        return ApprovalAnswer(
            model,
            str(version),
            ApprovalVerdict.APPROVAL_REJECTED,
            approver,
            comment,
            at,
            read_champion(client, model),
            f"{words}; it stays challenger",
            tags.get(COMPARED_TAG),
        )
    try:
        move_champion(
            config,
            client,
            model,
            str(version),
            "promote",
            words,
            actor=approver,
            run_id=run_id,
            expect_current=tags.get(COMPARED_TAG) or "none",
            automatic=True,
        )
    except ExpectationMismatch as err:
        set_outcome(client, model, str(version), VersionOutcome.SUPERSEDED, approval=ApprovalState.SUPERSEDED, **record)
        return ApprovalAnswer(
            model,
            str(version),
            ApprovalVerdict.SUPERSEDED,
            approver,
            comment,
            at,
            err.actual,
            f"v{version} not promoted: {err}; retrain to gate a candidate against the new champion",
            tags.get(COMPARED_TAG),
        )
    set_outcome(client, model, str(version), VersionOutcome.PROMOTED, approval=ApprovalState.APPROVED, **record)
    return ApprovalAnswer(
        model,
        str(version),
        ApprovalVerdict.APPROVED,
        approver,
        comment,
        at,
        str(version),
        f"{words}; v{version} is champion",
        tags.get(COMPARED_TAG),
    )


def outcome_of(tags: dict[str, str]) -> str | None:
    """The version's outcome, under its key or the one versions registered earlier carry."""
    return tags.get(OUTCOME_TAG) or tags.get(LEGACY_OUTCOME_TAG)
