"""One Prefect event per decision, so automations and notifications hear of every one.

A retrain ends in ``retrain_flow`` whichever entry point started it (the CLI, a deployment's
schedule or trigger, a worker, the UI's Run button), so announcing there, once, after the
run's ending is known, emits exactly one event per decision. An operation flow (rollback,
promote) announces its own. The model is the event's resource (``retrain.model.<name>``, what
the triggers already match on); versions, the primary metric before → after with its
interval, the reasons, the actor and links to the flow run and the MLflow version ride in
the payload. The vocabulary is ``base.vocabulary.DecisionEvent``.
"""

from __future__ import annotations

from typing import Any

from prefect.runtime import flow_run

from base.notices import approval_payload, common_payload, move_payload, notice_for, outside_move_payload
from base.outcome import RunOutcome
from base.settings import ModelConfig
from base.vocabulary import EVENT_BY_STATUS, AlarmEvent, DecisionEvent, RunStatus
from flows.common import model_resource_id
from registry.promotion_types import ReconcileNote


def announce_outcome(config: ModelConfig, outcome: RunOutcome) -> str | None:
    """The event for a retrain's ending (None for ``unchanged``/``busy``/a data problem); emitted once."""
    event = EVENT_BY_STATUS.get(outcome.status)
    if event is None or (outcome.status is RunStatus.DATA_INVALID and not outcome.quarantined):
        return None
    payload = {
        **base_payload(config.name, config.tracking_uri, outcome.version),
        "status": str(outcome.status),
        "trigger": str(outcome.trigger),
        "previous_champion": outcome.previous_champion,
        "champion_version": outcome.champion_version,
        "message": outcome.message,
        "quarantined": list(outcome.quarantined),
        **gate_summary(outcome),
    }
    return emit(config.name, event, payload, outcome.version)


def announce_failure(config: ModelConfig, error: BaseException) -> str:
    """``retrain.model.run.failed``: the run ended by an error, not by a decision."""
    payload = {
        **base_payload(config.name, config.tracking_uri, None),
        "error": type(error).__name__,
        "message": str(error)[:1000],
    }
    return emit(config.name, DecisionEvent.RUN_FAILED, payload, None)


def announce_move(event: DecisionEvent, moved: dict[str, Any], tracking_uri: str) -> str:
    """A rollback or a manual promotion, from its result (``PromotionResult.to_dict()``)."""
    run_id = current_run_id()
    payload = move_payload(moved, tracking_uri, run_id, flow_run_url(run_id))
    return emit(moved["model"], event, payload, payload["version"])


def announce_answer(answer: dict[str, Any], tracking_uri: str) -> str:
    """A person's answer to a waiting candidate: promoted, rejected, or superseded."""
    run_id = current_run_id()
    event, payload = approval_payload(answer, tracking_uri, run_id, flow_run_url(run_id))
    return emit(answer["model"], event, payload, payload["version"])


def announce_shadow_verdict(config: ModelConfig, verdict: Any, answer: dict[str, Any]) -> str:
    """``retrain.challenger.promoted_after_shadow`` or ``retrain.challenger.discarded``: live labels decided."""
    from serving.shadow_verdict import ShadowAction

    event = DecisionEvent.PROMOTED_AFTER_SHADOW if verdict.action is ShadowAction.PROMOTE else DecisionEvent.DISCARDED
    payload = {
        **base_payload(config.name, config.tracking_uri, verdict.version),
        "reason": verdict.reason,
        "outcome": str(answer["verdict"]),
        "champion_version": answer["champion"],
        "message": answer["message"],
    }
    return emit(config.name, event, payload, verdict.version)


def announce_outside_moves(config: ModelConfig, notes: list[ReconcileNote]) -> list[str]:
    """``retrain.champion.moved_outside`` once per move: the note exists only when it was recorded now."""
    return announce_moves_of(config.name, config.tracking_uri, notes)


def announce_moves_of(model: str, tracking_uri: str, notes: list[ReconcileNote]) -> list[str]:
    """The same from the model's name and registry, for callers without its config (the fleet flow)."""
    sent = []
    for note in notes:
        if note.outside:
            run_id = current_run_id()
            payload = outside_move_payload(model, tracking_uri, note, run_id, flow_run_url(run_id))
            sent.append(emit(model, DecisionEvent.MOVED_OUTSIDE, payload, note.to_version))
    return sent


def announce_champion_below_floor(model: str, version: str, decision: Any) -> str:
    """Event ``retrain.champion.below_floor``: the model in service fails the gate's floor.

    Rejecting the candidate leaves that champion serving, so automations (a notification, a
    manual retrain) need their own signal; the gate's reasons alone reach nobody.
    """
    d = decision.to_dict()
    payload = {
        "model": model,
        "champion_version": d.get("champion_version"),
        "metric": d.get("metric"),
        "champion_score": d.get("champion_score"),
        "candidate_version": version,
        "candidate_score": d.get("candidate_score"),
        "promote": d.get("promote"),
        "reasons": d.get("reasons", []),
    }
    return emit(model, AlarmEvent.BELOW_FLOOR, payload, d.get("champion_version"))


def current_run_id() -> str | None:
    return str(flow_run.get_id() or "") or None


def base_payload(model: str, tracking_uri: str, version: str | None) -> dict[str, Any]:
    run_id = current_run_id()
    return common_payload(model, tracking_uri, version, run_id, flow_run_url(run_id))


def gate_summary(outcome: RunOutcome) -> dict[str, Any]:
    """The primary metric before → after with its interval, and the gate's reasons."""
    if outcome.decision is None:
        return {}
    d = outcome.decision.to_dict()
    boot = d.get("bootstrap") or {}
    interval = [boot.get("low"), boot.get("high")] if boot else None
    return {
        "metric": d.get("metric"),
        "champion_score": d.get("champion_score"),
        "candidate_score": d.get("candidate_score"),
        "difference_interval": interval,
        "reasons": d.get("reasons", []),
    }


def flow_run_url(run_id: str | None) -> str | None:
    """The run's page in the Prefect UI, where the UI's address is known."""
    from prefect.settings import PREFECT_UI_URL

    base = PREFECT_UI_URL.value()
    return f"{base.rstrip('/')}/runs/flow-run/{run_id}" if base and run_id else None


def emit(model: str, event: str, payload: dict[str, Any], version: str | None) -> str:
    """One event on the model's resource, its readable lines (``base.notices``) added to the payload."""
    from prefect.events import emit_event

    payload = {**payload, **notice_for(event, payload).to_payload()}

    related = []
    if version is not None:
        related.append(
            {"prefect.resource.id": f"{model_resource_id(model)}.v{version}", "prefect.resource.role": "model-version"}
        )
    emit_event(
        event=str(event),
        resource={"prefect.resource.id": model_resource_id(model), "prefect.resource.name": model},
        related=related,
        payload=payload,
    )
    return str(event)
