"""One table of retrain situations through ``decide_run``, the rule the flow and the dry run share."""

from __future__ import annotations

from dataclasses import replace

import pytest

from base.vocabulary import RunStatus
from monitoring.dry_run import would_end
from registry.run_verdict import RunFacts, RunVerdict, Step, decide_run

BASE = RunFacts(fingerprint="fp-new", champion_fingerprint="fp-old", manual_approval=False)

# (situation, facts, step, status the run ends with)
CASES = [
    ("first model", replace(BASE, champion_fingerprint=None), Step.TRAIN, None),
    ("new data", BASE, Step.TRAIN, None),
    ("same fingerprint", replace(BASE, champion_fingerprint="fp-new"), Step.UNCHANGED, RunStatus.UNCHANGED),
    ("same fingerprint beats a block", replace(BASE, champion_fingerprint="fp-new", blocked="b"), Step.UNCHANGED,
     RunStatus.UNCHANGED),
    ("blocked", replace(BASE, blocked="rolled back"), Step.BLOCKED, RunStatus.WITHHELD),
    ("blocked, override", replace(BASE, blocked="rolled back", override=True), Step.TRAIN, None),
    ("blocked after the gate", replace(BASE, blocked="b", gate_passed=True), Step.BLOCKED, RunStatus.WITHHELD),
    ("gate rejects", replace(BASE, gate_passed=False), Step.REJECTED, RunStatus.REJECTED),
    ("gate rejects a held model", replace(BASE, gate_passed=False, held="hold"), Step.REJECTED, RunStatus.REJECTED),
    ("held", replace(BASE, gate_passed=True, held="on hold"), Step.HELD, RunStatus.WITHHELD),
    ("held, manual", replace(BASE, gate_passed=True, held="hold", manual_approval=True), Step.HELD,
     RunStatus.WITHHELD),
    ("held, override", replace(BASE, gate_passed=True, held="hold", override=True), Step.PROMOTE, RunStatus.PROMOTED),
    ("manual approval", replace(BASE, gate_passed=True, manual_approval=True), Step.APPROVAL,
     RunStatus.PENDING_APPROVAL),
    ("manual approval, override", replace(BASE, gate_passed=True, manual_approval=True, override=True),
     Step.APPROVAL, RunStatus.PENDING_APPROVAL),
    ("promote", replace(BASE, gate_passed=True), Step.PROMOTE, RunStatus.PROMOTED),
    ("first model promotes", replace(BASE, champion_fingerprint=None, gate_passed=True), Step.PROMOTE,
     RunStatus.PROMOTED),
]  # fmt: skip


@pytest.mark.parametrize(("facts", "step", "status"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_situation_takes_its_step(facts: RunFacts, step: Step, status: RunStatus | None):
    verdict = decide_run(facts)
    assert verdict.step is step
    assert verdict.status == status


def test_ending_is_the_status_and_train_ends_nothing():
    for step in Step:
        verdict = RunVerdict(step)
        if step is Step.TRAIN:
            with pytest.raises(ValueError, match="does not end"):
                verdict.ending()
        else:
            assert verdict.ending() == verdict.status


def test_a_person_s_reason_travels_with_the_verdict():
    assert decide_run(replace(BASE, blocked="rolled back by oncall")).why == "rolled back by oncall"
    assert decide_run(replace(BASE, gate_passed=True, held="frozen")).why == "frozen"


@pytest.mark.parametrize("step", list(Step))
def test_the_dry_run_words_every_step(step: Step):
    sentence = would_end(RunVerdict(step, why="the reason"), champion_version="3")
    assert sentence and "{" not in sentence
    if step in (Step.BLOCKED, Step.HELD):
        assert "the reason" in sentence
