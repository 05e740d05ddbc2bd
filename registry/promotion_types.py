"""What moving ``champion`` can answer: typed results, and errors that carry their kind.

The CLI maps each kind to an exit code; flows and the approval path catch the ones they
branch on (``ExpectationMismatch``, ``PromotionWithheld``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from base.errors import Kind, RetrainError
from registry.ledger import LedgerStatus


class PromotionError(RetrainError):
    """A move of ``champion`` that was refused or failed; its ``kind`` tells the CLI which."""

    kind = Kind.UNEXPECTED

    def __init__(self, model: str, message: str):
        self.model = model
        super().__init__(message)


class UnknownModel(PromotionError):
    kind = Kind.UNKNOWN_MODEL


class NothingToRollBack(PromotionError):
    kind = Kind.NOTHING_TO_ROLL_BACK


class TargetUnavailable(PromotionError):
    """The target version is missing, not READY, or does not load."""

    kind = Kind.TARGET_UNAVAILABLE


class PromotionWithheld(PromotionError):
    """An automatic promotion that a hold or a blocked fingerprint stopped."""

    kind = Kind.WITHHELD


class ExpectationMismatch(PromotionError):
    """``expect_current`` no longer matches: someone moved the champion meanwhile."""

    kind = Kind.EXPECTATION_MISMATCH

    def __init__(self, model: str, expected: str, actual: str | None):
        self.expected, self.actual = expected, actual
        super().__init__(
            model, f"champion of {model!r} is {actual or 'none'}, not {expected} as expected; nothing changed"
        )


@dataclass(frozen=True)
class ReconcileNote:
    """What reconciliation decided about one pending entry, and why."""

    entry_id: int
    model: str
    to_version: str
    outcome: LedgerStatus  # applied | failed
    message: str
    from_version: str | None = None
    outside: bool = False  # a champion moved outside Retrain, recorded (``registry.outside_moves``)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PromotionResult:
    """One call's outcome; ``changed`` is False when the target already was champion."""

    model: str
    action: str
    from_version: str | None
    to_version: str
    changed: bool
    entry_id: int | None
    reason: str | None
    actor: str
    run_id: str | None
    at: str
    warnings: tuple[str, ...] = ()
    reconciled: tuple[ReconcileNote, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["warnings"] = list(self.warnings)
        out["reconciled"] = [n.to_dict() for n in self.reconciled]
        return out
