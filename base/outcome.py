"""What one retrain run ended with, in a form the CLI, the demo and CI can all read.

Kept free of Prefect so that the CLI can map it to an exit code and the demo can print it
without caring how the run was orchestrated.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

from base.exitcodes import Exit
from base.vocabulary import RunStatus, Trigger

EXIT_BY_STATUS = {
    RunStatus.PROMOTED: Exit.OK,
    RunStatus.REJECTED: Exit.REJECTED,
    RunStatus.APPROVAL_REJECTED: Exit.REJECTED,
    RunStatus.DATA_INVALID: Exit.DATA_INVALID,
    RunStatus.PENDING_APPROVAL: Exit.PENDING_APPROVAL,
    RunStatus.UNCHANGED: Exit.OK,  # same data, recipe and code as the champion: nothing to do
    RunStatus.WITHHELD: Exit.WITHHELD,  # a hold or a blocked fingerprint stopped the promotion
    RunStatus.SUPERSEDED: Exit.REJECTED,  # a person moved the champion while this run trained
    RunStatus.BUSY: Exit.BUSY,  # another retrain of the model holds its run lease
}


class GateDecision(Protocol):
    """The gate's decision as an outcome carries it (``training.types.Decision``)."""

    @property
    def promote(self) -> bool: ...

    def to_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class RecordedDecision:
    """A decision read back from JSON (``RunOutcome.from_dict``): its plain fields, as stored."""

    fields: dict[str, Any]

    @property
    def promote(self) -> bool:
        return bool(self.fields.get("promote"))

    def to_dict(self) -> dict[str, Any]:
        return dict(self.fields)


@dataclass
class RunOutcome:
    """The result of ``retrain_flow``: status, the version it registered, and why."""

    model: str
    status: RunStatus
    version: str | None = None
    champion_version: str | None = None
    previous_champion: str | None = None
    trigger: Trigger = Trigger.MANUAL
    decision: GateDecision | None = None
    validation: list[dict[str, Any]] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)
    lineage: dict[str, Any] = field(default_factory=dict)
    fingerprint: str | None = None
    notes: list[str] = field(default_factory=list)
    message: str = ""
    dry_run: bool = False  # what a real run would have ended with; nothing was stored
    reports: list[str] = field(default_factory=list)  # Markdown reports written for this run
    search: dict[str, Any] | None = None  # the candidate search's top trials, when the config has one

    @property
    def exit_code(self) -> Exit:
        return EXIT_BY_STATUS[self.status]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON fields; the decision as its own ``to_dict()`` gives it."""
        out = asdict(replace(self, decision=None))
        out["decision"] = self.decision.to_dict() if self.decision is not None else None
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunOutcome":
        decision = RecordedDecision(data["decision"]) if data.get("decision") is not None else None
        return cls(
            **{**data, "status": RunStatus(data["status"]), "trigger": Trigger(data["trigger"]), "decision": decision}
        )
