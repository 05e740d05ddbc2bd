"""Manual approval: a candidate that passed the gate waits for a person before it becomes champion.

With ``approval: manual`` the retrain flow pauses (``pause_flow_run`` with a typed form), so
the Prefect UI shows approve/reject and a comment; ``retrain approve|reject RUN_ID`` answer
the same form from a terminal. A run that is not resumed within ``approval_timeout_hours``
counts as rejected. An approval promotes through the ledger with the approver as actor and
the comment in the reason, and refuses if the champion moved while the candidate waited (the
gate compared it with the old one). Rejections and timeouts are written on the version's tags.

A paused run needs a Prefect server that outlives the process; a run on the temporary
in-process server (``retrain run`` without ``PREFECT_API_URL``) cannot be resumed by anyone,
so it ends ``pending_approval`` and the version is promoted by hand with ``retrain promote``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any, Literal
from uuid import UUID

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.input import RunInput
from prefect.runtime import flow_run

from flows.common import IO_RETRIES
from retrain.config import ModelConfig

Verdict = Literal["approved", "rejected", "timed_out", "pending", "superseded"]
UI_APPROVER = "prefect-ui"


class ApprovalInput(RunInput):
    """The form shown on a paused retrain run in the Prefect UI."""

    approve: bool
    comment: str = ""
    approver: str = ""


@dataclass(frozen=True)
class ApprovalResult:
    """What the person (or the clock) decided about one candidate version."""

    verdict: Verdict
    approver: str
    comment: str = ""
    at: str = ""

    @property
    def approved(self) -> bool:
        return self.verdict == "approved"

    def reason(self, version: str) -> str:
        """The sentence recorded in the ledger or on the version's tags."""
        words = {"approved": "approved", "rejected": "rejected", "timed_out": "not approved in time",
                 "pending": "waits for approval", "superseded": "approved too late"}[self.verdict]
        text = f"v{version} {words} by {self.approver}"
        return f"{text}: {self.comment}" if self.comment else text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def utc_stamp() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def can_pause() -> bool:
    """Only a run on a real API server can be resumed by someone else later."""
    from prefect.settings import get_current_settings

    return bool(get_current_settings().api.url)


def pause_timing(config: ModelConfig) -> tuple[int, int]:
    """(timeout, poll) seconds: poll often for short test timeouts, every 10 s for hours."""
    timeout = max(1, round(config.approval_timeout_hours * 3600))
    return timeout, int(min(10, max(1, timeout // 60)))


def approval_form(config: ModelConfig, version: str, decision: Any) -> type[ApprovalInput]:
    """The form with a description saying what is being approved and why the gate passed it."""
    d = decision.to_dict()
    lines = [f"**{config.name} v{version}** passed the gate and waits for approval.", "",
             f"- {d['metric']}: candidate {d.get('candidate_score')} vs champion "
             f"v{d.get('champion_version') or '-'} {d.get('champion_score')}"]
    lines += [f"- {r}" for r in d.get("reasons", [])]
    lines += ["", "Tick *approve* to make it champion, leave it unticked to reject; "
              "put your name in *approver* (recorded in the promotion ledger)."]
    return ApprovalInput.with_initial_data(description="\n".join(lines), approve=False, comment="", approver="")


def request_approval(config: ModelConfig, version: str, decision: Any) -> ApprovalResult:
    """Pause the current flow run until a person answers the form or the timeout passes."""
    from prefect.exceptions import FlowPauseTimeout
    from prefect.flow_runs import pause_flow_run

    logger = get_run_logger()
    if not can_pause():
        logger.warning("approval: manual, but no Prefect server to wait on; v%s stays challenger", version)
        return ApprovalResult("pending", "-", "no Prefect server to pause on", utc_stamp())
    timeout, poll = pause_timing(config)
    logger.info("v%s waits for approval for up to %s s: approve or reject it in the UI or with "
                "`retrain approve|reject %s`", version, timeout, flow_run.get_id())
    try:
        answer = pause_flow_run(wait_for_input=approval_form(config, version, decision), timeout=timeout,
                                poll_interval=poll, key=f"approve-{config.name}-v{version}")
    except FlowPauseTimeout:
        resume_after_timeout()
        return ApprovalResult("timed_out", "timeout", f"approval timed out after {timeout} s", utc_stamp())
    verdict: Verdict = "approved" if answer.approve else "rejected"
    return ApprovalResult(verdict, answer.approver.strip() or UI_APPROVER, answer.comment.strip(), utc_stamp())


def resume_after_timeout() -> None:
    """Put the run back to Running so it can record the rejection and finish Completed.

    After the deadline the server refuses every normal transition out of Paused (it would
    fail the run); forcing Running is the one way to finish the bookkeeping in this run.
    """
    from prefect import get_client
    from prefect.states import Running

    with get_client(sync_client=True) as client:
        client.set_flow_run_state(flow_run.get_id(), Running(message="approval timed out"), force=True)


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def promote_approved(config: ModelConfig, version: str, decision: Any, result: ApprovalResult):
    """Move ``champion`` through the ledger, unless it moved since the gate compared against it."""
    from registry.promotion import move_champion
    from registry.store import connect

    return move_champion(
        config, connect(config), config.name, version, action="promote", reason=result.reason(version),
        actor=result.approver, run_id=str(flow_run.get_id() or ""), metrics=decision.candidate_metrics,
        expect_current=decision.champion_version or "none",
    )


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def record_decision(config: ModelConfig, version: str, result: ApprovalResult) -> None:
    """Write the verdict, who gave it, why and when on the version, for the MLflow UI and audits."""
    from registry.store import connect

    client = connect(config)
    tags = {"retrain.approval": result.verdict, "retrain.approval_by": result.approver,
            "retrain.approval_comment": result.comment, "retrain.approval_at": result.at,
            "retrain.approval_run": str(flow_run.get_id() or "")}
    for key, value in tags.items():
        client.set_model_version_tag(config.name, version, key, value)


def settle_by_approval(config: ModelConfig, version: str, decision: Any, outcome: Any) -> dict:
    """The retrain flow's manual branch: wait, then promote or record why not."""
    from registry.promotion import ExpectationMismatch

    logger = get_run_logger()
    result = request_approval(config, version, decision)
    if result.approved:
        try:
            promote_approved(config, version, decision, result)
        except ExpectationMismatch as err:
            note = f"not promoted: {err}; retrain to gate it against the new champion"
            result = ApprovalResult("superseded", result.approver, f"{result.comment} ({note})".strip(), result.at)
    record_decision(config, version, result)
    if result.approved:
        outcome.status, outcome.champion_version = "promoted", version
        outcome.message = f"v{version} promoted to champion ({result.reason(version)})"
    elif result.verdict == "pending":
        outcome.status = "pending_approval"
        outcome.message = (f"v{version} passed the gate and waits for approval; no Prefect server to pause on, "
                           f"so promote it with `retrain promote {config.name} {version} --reason ...`")
    else:
        outcome.status = "approval_rejected"
        outcome.message = f"v{version} stays challenger: {result.reason(version)}"
    logger.info(outcome.message)
    return outcome.to_dict()


def answer_approval(run_id: str | UUID, approve: bool, comment: str = "", approver: str = "") -> None:
    """Resume a paused retrain run with a decision, as the UI form does (used by the CLI).

    Raises ``prefect.exceptions.ObjectNotFound`` for an unknown run, ``NotPausedError`` when
    the run does not wait, ``FlowPauseTimeout`` when its deadline passed.
    """
    from prefect.flow_runs import resume_flow_run

    answer = ApprovalInput(approve=approve, comment=comment, approver=approver)
    resume_flow_run(UUID(str(run_id)), run_input=answer.model_dump())
