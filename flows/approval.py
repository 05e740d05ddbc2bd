"""Approval from the Prefect UI: the ``approve/<model>`` deployment answers a waiting candidate.

With ``approval: manual`` a retrain that passed the gate ends ``pending_approval`` and its
version waits, with a deadline, in the registry (see ``registry.approvals``). This flow is
the UI's way to answer: Run ▸ Custom run shows a typed form (version, approve, comment,
approver). ``retrain approve|reject`` do the same from a terminal. Both promote through the
ledger's compare-and-swap, so an approval given after someone moved the champion ends
``superseded`` instead of replacing a model the candidate was never compared with.

Why not ``pause_flow_run``: a paused run holds its process, its deployment's concurrency
slot and a lease the server forgets (Prefect cancels it once renewal fails, minutes in);
a waiting version survives server restarts, worker restarts and days of waiting.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run

from flows.common import artifact_key
from flows.decision_events import announce_answer
from flows.ops import actor_for_ui, locate

UI_APPROVER = "prefect-ui"


@flow(name="approve")
def approve_flow(
    model: str,
    version: int | None = None,
    approve: bool = False,
    comment: str = "",
    approver: str = "",
    config_path: str | None = None,
) -> dict:
    """Approve (tick *approve*) or reject the candidate ``version`` (default: the one waiting)."""
    from registry.approvals import answer_approval
    from registry.store import client_for

    stores = locate(model, config_path)
    who = approver.strip() or f"{UI_APPROVER} ({actor_for_ui()})"
    answer = answer_approval(
        stores,
        client_for(stores.tracking_uri),
        model,
        None if version is None else str(version),
        approve,
        who,
        comment.strip(),
        run_id=str(flow_run.get_id() or ""),
    )
    get_run_logger().info(answer.message)
    announce_answer(answer.to_dict(), stores.tracking_uri)
    create_markdown_artifact(
        markdown=f"# {answer.verdict}: {model} v{answer.version}\n\n{answer.message}\n\n"
        f"- champion now: v{answer.champion or '-'}\n- by: {answer.approver}\n- at: {answer.at}",
        key=artifact_key(model, "approval-answer"),
    )
    return answer.to_dict()
