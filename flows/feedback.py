"""``feedback_flow``: join late labels to the prediction log and tell the world when the
champion has lost its edge.

The judging lives in ``serving.feedback`` (``retrain feedback`` runs it without Prefect);
the flow logs the figures to MLflow and emits the same performance event a drift check
emits on a labelled batch, so the retrain deployment's existing trigger starts the retrain:
how the model does with its users is a retrain signal like any other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from base.settings import ModelConfig, load_config
from base.vocabulary import EVENTS, Signal
from flows.common import IO_RETRIES, artifact_key, publish_review_queue
from flows.decision_events import emit
from serving.feedback import FeedbackResult, run_feedback
from serving.feedback_log import log_feedback

SHADOW_APPROVER = "shadow evaluation"


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def judge(config: ModelConfig, labels_path: str) -> FeedbackResult:
    return run_feedback(config, Path(labels_path))


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def log_run(config: ModelConfig, result: FeedbackResult) -> str:
    return log_feedback(config, result, str(flow_run.get_id() or ""))


def emit_feedback(result: FeedbackResult, mlflow_run_id: str | None) -> list[str]:
    """``retrain.performance.degraded`` when the champion degraded on live labels; triggers decide."""
    if not result.degraded:
        return []
    event = EVENTS[Signal.PERFORMANCE]
    payload = {
        "model": result.model,
        "version": result.champion_version,
        "source": "feedback",
        "signal": Signal.PERFORMANCE,
        "starts_retrain": Signal.PERFORMANCE in result.signals,
        "summary": f"live labels: {result.summary().splitlines()[1][:480]}",
        "figures": result.figures(),
        "mlflow_run_id": mlflow_run_id,
    }
    emit(result.model, event, payload, result.champion_version)
    return [event]


def settle_shadow(config: ModelConfig, result: FeedbackResult, announce: bool = True) -> dict[str, Any] | None:
    """With ``gate.promote_after_shadow``: promote or discard the waiting challenger when live labels decide.

    Both go through the approval path (``registry.approvals.answer_approval``): a promotion is the
    ledger's compare-and-swap, a discard rejects the approval and blocks its fingerprint, each
    with the verdict's reason; ``announce`` emits the decision's event.
    """
    if config.gate.promote_after_shadow is None:
        return None
    from registry.approvals import answer_approval, waiting_version
    from registry.store import connect
    from serving.shadow_verdict import ShadowAction, decide_after_shadow

    client = connect(config)
    verdict = decide_after_shadow(
        result.shadow, waiting_version(client, config.name), config.gate.promote_after_shadow.batches
    )
    if verdict.action is ShadowAction.WAIT or verdict.version is None:
        return {"verdict": verdict.to_dict(), "answer": None, "event": None}
    approve = verdict.action is ShadowAction.PROMOTE
    answer = answer_approval(config, client, config.name, verdict.version, approve, SHADOW_APPROVER, verdict.reason)
    event = None
    if announce:
        from flows.decision_events import announce_shadow_verdict

        event = announce_shadow_verdict(config, verdict, answer.to_dict())
    return {"verdict": verdict.to_dict(), "answer": answer.to_dict(), "event": event}


def name_run() -> str:
    return f"feedback-{Path(flow_run.parameters['config_path']).stem}"


@flow(name="feedback", flow_run_name=name_run, log_prints=True)
def feedback_flow(config_path: str, labels_path: str) -> dict[str, Any]:
    """Join the labels file to the prediction log, log live figures, emit the performance event."""
    config = load_config(config_path)
    result = judge(config, labels_path)
    run_id = log_run(config, result)
    events = emit_feedback(result, run_id)
    shadow = settle_shadow(config, result)
    events += [shadow["event"]] if shadow and shadow["event"] else []
    lines = [f"# {config.name}: feedback", "", "```", result.summary(), "```"]
    lines += [f"shadow verdict: {shadow['verdict']['action']} — {shadow['verdict']['reason']}"] if shadow else []
    create_markdown_artifact(markdown="\n".join(lines), key=artifact_key(config.name, "feedback"))
    publish_review_queue(config)
    get_run_logger().info("%s; events: %s", result.summary(), ", ".join(events) or "none")
    return {**result.to_dict(), "events": events, "mlflow_run_id": run_id, "shadow_verdict": shadow}
