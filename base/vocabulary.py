"""Words every layer shares: aliases, signals, triggers and run statuses.

``StrEnum`` members are plain strings to MLflow, Prefect, JSON and f-strings, so they cross
every seam unchanged while the code says exactly which words exist.
"""

from __future__ import annotations

from enum import StrEnum

CHAMPION = "champion"  # the alias serving traffic; only the promotion ledger moves it
CHALLENGER = "challenger"  # the alias of the newest candidate that is not the champion


class Signal(StrEnum):
    """What a drift check can find; each may start a retrain (``drift.triggers``)."""

    DRIFT = "drift"
    PERFORMANCE = "performance"


class Trigger(StrEnum):
    """Why a retrain runs."""

    MANUAL = "manual"
    SCHEDULE = "schedule"
    DRIFT = "drift"
    PERFORMANCE = "performance"
    DEMO = "demo"


class Route(StrEnum):
    """Where a scored row goes: its prediction counts (``auto``) or a person decides (``review``)."""

    AUTO = "auto"
    REVIEW = "review"


class RunStatus(StrEnum):
    """How one retrain ended; ``base.outcome.EXIT_BY_STATUS`` gives each its exit code."""

    PROMOTED = "promoted"
    REJECTED = "rejected"
    DATA_INVALID = "data_invalid"
    PENDING_APPROVAL = "pending_approval"
    APPROVAL_REJECTED = "approval_rejected"
    UNCHANGED = "unchanged"
    WITHHELD = "withheld"
    SUPERSEDED = "superseded"
    BUSY = "busy"


class DecisionEvent(StrEnum):
    """One Prefect event per decision a retrain or an operation takes (docs/operations.md, Events)."""

    PROMOTED = "retrain.model.promoted"
    REJECTED = "retrain.model.rejected"
    QUARANTINED = "retrain.model.quarantined"
    APPROVAL_WAITING = "retrain.model.approval.waiting"
    WITHHELD = "retrain.model.withheld"
    SUPERSEDED = "retrain.model.superseded"
    ROLLED_BACK = "retrain.model.rolled_back"
    RUN_FAILED = "retrain.model.run.failed"
    MOVED_OUTSIDE = "retrain.champion.moved_outside"
    PROMOTED_AFTER_SHADOW = "retrain.challenger.promoted_after_shadow"
    DISCARDED = "retrain.challenger.discarded"


class AlarmEvent(StrEnum):
    """The events of a check rather than a decision: drift, decay, a champion below the floor, a broken batch."""

    DRIFT = "retrain.drift.detected"
    PERFORMANCE = "retrain.performance.degraded"
    BELOW_FLOOR = "retrain.champion.below_floor"
    BATCH_INVALID = "retrain.batch.invalid"


# Every event a notification may subscribe to (``notifications.destinations[].events``).
NOTIFIABLE_EVENTS: tuple[str, ...] = (*DecisionEvent, *AlarmEvent)
# What a destination hears by default: what changes the model in service, needs a person, or went wrong.
# Routine endings (a rejection, a superseded or withheld candidate) and the drift check's broken batch
# (the next retrain quarantines it and says so) are left to those who subscribe to them.
DEFAULT_NOTIFY_EVENTS: tuple[str, ...] = (
    DecisionEvent.PROMOTED,
    DecisionEvent.QUARANTINED,
    DecisionEvent.APPROVAL_WAITING,
    DecisionEvent.ROLLED_BACK,
    DecisionEvent.MOVED_OUTSIDE,
    DecisionEvent.RUN_FAILED,
    DecisionEvent.PROMOTED_AFTER_SHADOW,
    AlarmEvent.DRIFT,
    AlarmEvent.PERFORMANCE,
    AlarmEvent.BELOW_FLOOR,
)


# How a retrain's ending is announced; ``unchanged`` and ``busy`` decide nothing and say nothing.
EVENT_BY_STATUS = {
    RunStatus.PROMOTED: DecisionEvent.PROMOTED,
    RunStatus.REJECTED: DecisionEvent.REJECTED,
    RunStatus.DATA_INVALID: DecisionEvent.QUARANTINED,
    RunStatus.PENDING_APPROVAL: DecisionEvent.APPROVAL_WAITING,
    RunStatus.WITHHELD: DecisionEvent.WITHHELD,
    RunStatus.SUPERSEDED: DecisionEvent.SUPERSEDED,
}


EVENTS = {Signal.DRIFT: str(AlarmEvent.DRIFT), Signal.PERFORMANCE: str(AlarmEvent.PERFORMANCE)}
# A batch the drift check found broken (it failed an ``error`` rule): named, never a retrain trigger.
BATCH_INVALID_EVENT = str(AlarmEvent.BATCH_INVALID)
