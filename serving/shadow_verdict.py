"""After shadowing: promote the waiting challenger, discard it, or wait for more live labels.

With ``gate.promote_after_shadow`` a candidate that passed the holdout gate waits as
challenger (like a candidate waiting for a person's approval) while ``serving.shadow`` logs
its answers beside the champion's. Once it has labelled rows in ``batches`` batches of the
prediction log, the paired bootstrap on those rows decides: challenger significantly better
(the interval of challenger − champion above zero) → promote through the ledger; anything else
→ discard (the approval is rejected, its fingerprint blocked, it stays challenger). The flow
acts on the verdict; this module only decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from serving.shadow import ShadowComparison


class ShadowAction(StrEnum):
    WAIT = "wait"
    PROMOTE = "promote"
    DISCARD = "discard"


@dataclass(frozen=True)
class ShadowVerdict:
    """What live labels say about the waiting challenger, and why."""

    action: ShadowAction
    version: str | None
    reason: str

    def to_dict(self) -> dict[str, str | None]:
        return {"action": str(self.action), "version": self.version, "reason": self.reason}


def decide_after_shadow(comparison: "ShadowComparison | None", waiting: str | None, batches: int) -> ShadowVerdict:
    """The verdict on ``waiting`` (the version waiting for approval) from the shadow comparison."""
    if waiting is None:
        return ShadowVerdict(ShadowAction.WAIT, None, "no candidate waits as challenger")
    if comparison is None or comparison.challenger_version != str(waiting):
        return ShadowVerdict(ShadowAction.WAIT, waiting, f"no labelled shadow rows of v{waiting} yet")
    if comparison.batches < batches or comparison.bootstrap is None:
        return ShadowVerdict(
            ShadowAction.WAIT,
            waiting,
            f"v{waiting} has labelled shadow rows in {comparison.batches} of {batches} batch(es) "
            "(gate.promote_after_shadow.batches)",
        )
    said = comparison.summary()
    if comparison.bootstrap.low > 0:
        return ShadowVerdict(ShadowAction.PROMOTE, waiting, f"beat the champion on live labels: {said}")
    return ShadowVerdict(ShadowAction.DISCARD, waiting, f"did not beat the champion on live labels: {said}")
