"""RunOutcome carries the gate's decision as an object and still prints the same JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from base.outcome import RecordedDecision, RunOutcome
from base.vocabulary import RunStatus, Trigger


@dataclass(frozen=True)
class Gate:
    promote: bool
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"promote": self.promote, "reasons": list(self.reasons)}


def test_to_dict_renders_the_decision_in_place():
    outcome = RunOutcome(model="m", status=RunStatus.REJECTED, decision=Gate(False, ("fail: floor",)))
    data = json.loads(json.dumps(outcome.to_dict()))
    assert data["decision"] == {"promote": False, "reasons": ["fail: floor"]}
    assert list(data)[:7] == [
        "model",
        "status",
        "version",
        "champion_version",
        "previous_champion",
        "trigger",
        "decision",
    ]
    assert RunOutcome(model="m", status=RunStatus.BUSY).to_dict()["decision"] is None


def test_from_dict_reads_back_what_to_dict_wrote():
    outcome = RunOutcome(model="m", status=RunStatus.PROMOTED, trigger=Trigger.DRIFT, decision=Gate(True, ("pass",)))
    again = RunOutcome.from_dict(json.loads(json.dumps(outcome.to_dict())))
    assert isinstance(again.decision, RecordedDecision) and again.decision.promote
    assert again.to_dict() == outcome.to_dict()
