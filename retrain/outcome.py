"""What one retrain run ended with, in a form the CLI, the demo and CI can all read.

Kept free of Prefect so that the CLI can map it to an exit code and the demo can print it
without caring how the run was orchestrated.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from retrain.exitcodes import Exit

Status = Literal["promoted", "rejected", "data_invalid", "pending_approval", "approval_rejected", "unchanged",
                 "withheld", "superseded", "busy"]

EXIT_BY_STATUS = {
    "promoted": Exit.OK,
    "rejected": Exit.REJECTED,
    "approval_rejected": Exit.REJECTED,
    "data_invalid": Exit.DATA_INVALID,
    "pending_approval": Exit.PENDING_APPROVAL,
    "unchanged": Exit.OK,  # same data, recipe and code as the champion: nothing to do
    "withheld": Exit.WITHHELD,  # a hold or a blocked fingerprint stopped the promotion
    "superseded": Exit.REJECTED,  # a person moved the champion while this run trained
    "busy": Exit.BUSY,  # another retrain of the model holds its run lease
}


@dataclass
class RunOutcome:
    """The result of ``retrain_flow``: status, the version it registered, and why."""

    model: str
    status: Status
    version: str | None = None
    champion_version: str | None = None
    previous_champion: str | None = None
    trigger: str = "manual"
    decision: dict[str, Any] | None = None
    validation: list[dict[str, Any]] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)
    lineage: dict[str, Any] = field(default_factory=dict)
    fingerprint: str | None = None
    notes: list[str] = field(default_factory=list)
    message: str = ""

    @property
    def exit_code(self) -> Exit:
        return EXIT_BY_STATUS[self.status]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunOutcome":
        return cls(**data)
