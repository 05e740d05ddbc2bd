"""What an event says to a person: one headline, the metric before → after, and why.

A notification is read in a chat window by someone who did not start the run, so each event
carries these three lines ready to show (``headline``, ``change``, ``why`` in its payload),
written here once for every destination and for the Prefect UI's event feed; the message
templates (``base.notify_templates``) only lay them out with the links.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from base.environment import actor
from base.secrets import redact_url
from base.vocabulary import AlarmEvent, DecisionEvent

MAX_WHY = 600


@dataclass(frozen=True)
class Notice:
    """The readable part of an event's payload."""

    headline: str
    change: str
    why: str

    def to_payload(self) -> dict[str, str]:
        return asdict(self)


def notice_for(event: str, payload: dict[str, Any]) -> Notice:
    """The notice of one event from its payload (the fields ``flows.decision_events`` writes)."""
    change = floor_change(payload) if event == AlarmEvent.BELOW_FLOOR else change_of(payload)
    return Notice(headline_of(event, payload), change, why_of(event, payload))


def _v(value: Any) -> str:
    return f"v{value}" if value not in (None, "") else "none"


def headline_of(event: str, p: dict[str, Any]) -> str:
    """What happened, with the versions: ``v5 promoted to champion (was v4)``."""
    version, before = p.get("version"), p.get("previous_champion") or p.get("from_version")
    lines = {
        DecisionEvent.PROMOTED: f"{_v(version)} promoted to champion (was {_v(before)})",
        DecisionEvent.REJECTED: f"{_v(version)} rejected; champion {_v(p.get('champion_version') or before)} stays",
        DecisionEvent.QUARANTINED: f"{len(p.get('quarantined') or [])} batch(es) quarantined; nothing registered, "
        f"champion {_v(p.get('champion_version'))} stays",
        DecisionEvent.APPROVAL_WAITING: f"{_v(version)} passed the gate and waits for approval (champion {_v(before)})",
        DecisionEvent.WITHHELD: f"{_v(version)} passed the gate but a hold or a block kept it out",
        DecisionEvent.SUPERSEDED: f"{_v(version)} not promoted: the champion moved while it was gated",
        DecisionEvent.ROLLED_BACK: f"rolled back to {_v(version)} (was {_v(before)})",
        DecisionEvent.RUN_FAILED: f"retrain failed: {p.get('error') or 'error'}",
        DecisionEvent.MOVED_OUTSIDE: f"champion moved in the MLflow registry, {_v(before)} → {_v(version)}",
        DecisionEvent.PROMOTED_AFTER_SHADOW: f"challenger {_v(version)} beat champion "
        f"{_v(p.get('champion_version'))} on live labels and was promoted",
        DecisionEvent.DISCARDED: f"challenger {_v(version)} did not beat champion "
        f"{_v(p.get('champion_version'))} on live labels and was discarded",
        AlarmEvent.DRIFT: f"drift in {p.get('batch') or 'the newest batch'} (champion {_v(version)})",
        AlarmEvent.PERFORMANCE: f"champion {_v(version)} lost performance",
        AlarmEvent.BELOW_FLOOR: f"champion {_v(p.get('champion_version'))} is below the gate's floor",
        AlarmEvent.BATCH_INVALID: f"batch {p.get('batch') or '?'} is broken (champion {_v(version)})",
    }
    return lines.get(event, event)  # type: ignore[call-overload]


def change_of(p: dict[str, Any]) -> str:
    """``roc_auc 0.712 → 0.731 (difference 95% interval [+0.004, +0.033])``; empty without scores."""
    metric, before, after = p.get("metric"), p.get("champion_score"), p.get("candidate_score")
    if not metric or not isinstance(after, (int, float)):
        return ""
    if not isinstance(before, (int, float)):
        return f"{metric} {_score(after)} (no champion before)"
    line = f"{metric} {_score(before)} → {_score(after)}"
    interval = p.get("difference_interval") or []
    if len(interval) == 2 and all(isinstance(x, (int, float)) for x in interval):
        line += f" (difference interval [{interval[0]:+.4f}, {interval[1]:+.4f}])"
    return line


def floor_change(p: dict[str, Any]) -> str:
    """For a champion below the floor: its score and the candidate's, side by side, not as a change."""
    metric, champion, candidate = p.get("metric"), p.get("champion_score"), p.get("candidate_score")
    if not metric or not isinstance(champion, (int, float)):
        return ""
    return f"champion {metric} {_score(champion)}, candidate v{p.get('candidate_version')} {_score(candidate)}"


def _score(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, (int, float)) else "-"


def why_of(event: str, p: dict[str, Any]) -> str:
    """The reason in one line: the failing gate rules first, else the person's reason or the summary."""
    reasons = [str(r) for r in p.get("reasons") or []]
    failing = [r for r in reasons if r.startswith("fail:")]
    if event in (DecisionEvent.REJECTED, AlarmEvent.BELOW_FLOOR) and failing:
        text = "; ".join(failing)
    elif p.get("reason"):
        text = str(p["reason"])
    elif event in (DecisionEvent.QUARANTINED, DecisionEvent.WITHHELD, DecisionEvent.SUPERSEDED) and p.get("message"):
        text = str(p["message"])
    elif reasons:
        text = "; ".join(r for r in reasons if not r.startswith("info:")) or reasons[0]
    else:
        text = str(p.get("summary") or p.get("message") or "")
    text = " ".join(text.split())
    return text if len(text) <= MAX_WHY else text[: MAX_WHY - 1] + "…"


def mlflow_version_url(model: str, tracking_uri: str, version: str | None) -> str | None:
    """The version's page in the MLflow UI when the registry is a server; None for a local SQLite file."""
    if version is None or not tracking_uri.startswith(("http://", "https://")):
        return None
    return f"{redact_url(tracking_uri).rstrip('/')}/#/models/{model}/versions/{version}"


def common_payload(
    model: str, tracking_uri: str, version: str | None, run_id: str | None = None, run_url: str | None = None
) -> dict[str, Any]:
    """The fields every decision event carries: model, version, actor and the links."""
    return {
        "model": model,
        "version": version,
        "actor": actor(),
        "flow_run_id": run_id,
        "flow_run_url": run_url,
        "mlflow_version_url": mlflow_version_url(model, tracking_uri, version),
    }


def move_payload(moved: dict[str, Any], tracking_uri: str, run_id: str | None = None, run_url: str | None = None):
    """A rollback's or a manual promotion's payload, from ``PromotionResult.to_dict()``."""
    model, version = moved["model"], str(moved["to_version"])
    return {
        **common_payload(model, tracking_uri, version, run_id, run_url),
        "from_version": moved["from_version"],
        "reason": moved["reason"],
        "changed": moved["changed"],
        "actor": moved["actor"],
    }


def outside_move_payload(
    model: str, tracking_uri: str, note: Any, run_id: str | None = None, run_url: str | None = None
) -> dict[str, Any]:
    """A champion moved in the MLflow registry, from the note that recorded it (``ReconcileNote``)."""
    return {
        **common_payload(model, tracking_uri, note.to_version, run_id, run_url),
        "from_version": note.from_version,
        "message": note.message,
    }


APPROVAL_EVENTS = {
    "approved": DecisionEvent.PROMOTED,
    "approval_rejected": DecisionEvent.REJECTED,
    "superseded": DecisionEvent.SUPERSEDED,
}


def approval_payload(answer: dict[str, Any], tracking_uri: str, run_id: str | None = None, run_url: str | None = None):
    """A person's answer to a waiting candidate (``ApprovalAnswer.to_dict()``) as its decision event."""
    model, version = answer["model"], str(answer["version"])
    return APPROVAL_EVENTS[answer["verdict"]], {
        **common_payload(model, tracking_uri, version, run_id, run_url),
        "previous_champion": answer.get("previous_champion"),
        "champion_version": answer.get("champion"),
        "status": answer["verdict"],
        "reason": answer["message"],
        "actor": answer["approver"],
    }
