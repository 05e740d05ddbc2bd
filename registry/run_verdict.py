"""Where a retrain goes once its data passed validation: one rule table for every caller.

The retrain flow acts on the verdict (trains, registers, asks for approval, promotes) and
the dry run only reports it, so both read the same steps in the same order:

1. ``UNCHANGED``: the candidate would be the champion again (same fingerprint);
2. ``BLOCKED``: a person blocked this fingerprint (nothing is trained);
3. ``TRAIN``: nothing stops the run before the gate (asked before the gate is known);
4. ``REJECTED``: the gate rejected the candidate;
5. ``HELD``: a hold or a block stops promoting a candidate that passed;
6. ``APPROVAL``: ``approval: manual`` waits for a person;
7. ``PROMOTE``: promote through the compare-and-swap.

An override (a person's manual run) skips blocks and holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from base.vocabulary import RunStatus


class Step(StrEnum):
    """What the run does next."""

    UNCHANGED = "unchanged"
    BLOCKED = "blocked"
    TRAIN = "train"
    REJECTED = "rejected"
    HELD = "held"
    APPROVAL = "approval"
    PROMOTE = "promote"


STATUS_BY_STEP: dict[Step, RunStatus | None] = {
    Step.UNCHANGED: RunStatus.UNCHANGED,
    Step.BLOCKED: RunStatus.WITHHELD,
    Step.TRAIN: None,  # not an end: the gate decides
    Step.REJECTED: RunStatus.REJECTED,
    Step.HELD: RunStatus.WITHHELD,
    Step.APPROVAL: RunStatus.PENDING_APPROVAL,
    Step.PROMOTE: RunStatus.PROMOTED,  # unless the compare-and-swap refuses it
}


@dataclass(frozen=True)
class RunFacts:
    """What the run knows when it asks; ``gate_passed`` is None before the gate ran.

    ``blocked`` is a person's block on this fingerprint, ``held`` a hold or block that stops
    a promotion now (read once the gate passed). The real flow leaves ``held`` to the
    compare-and-swap for automatic promotions, which checks it atomically with the move.
    """

    fingerprint: str | None
    champion_fingerprint: str | None
    manual_approval: bool
    override: bool = False
    blocked: str | None = None
    gate_passed: bool | None = None
    held: str | None = None


@dataclass(frozen=True)
class RunVerdict:
    """The step, the run status it ends with (None: go on to the gate) and a person's reason."""

    step: Step
    why: str | None = None

    @property
    def status(self) -> RunStatus | None:
        return STATUS_BY_STEP[self.step]

    def ending(self) -> RunStatus:
        """The status a run stopping at this step ends with; ``TRAIN`` is no end."""
        status = STATUS_BY_STEP[self.step]
        if status is None:
            raise ValueError(f"step {self.step} does not end a run")
        return status


def decide_run(facts: RunFacts) -> RunVerdict:
    """The next step for a run whose data passed validation, by the rules in order."""
    if facts.champion_fingerprint is not None and facts.champion_fingerprint == facts.fingerprint:
        return RunVerdict(Step.UNCHANGED)
    if facts.blocked and not facts.override:
        return RunVerdict(Step.BLOCKED, facts.blocked)
    if facts.gate_passed is None:
        return RunVerdict(Step.TRAIN)
    if not facts.gate_passed:
        return RunVerdict(Step.REJECTED)
    if facts.held and not facts.override:
        return RunVerdict(Step.HELD, facts.held)
    if facts.manual_approval:
        return RunVerdict(Step.APPROVAL)
    return RunVerdict(Step.PROMOTE)
