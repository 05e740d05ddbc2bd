"""Pieces every flow shares: which failures are worth a retry, and artifacts for the UI."""

from __future__ import annotations

from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact

TRANSIENT = (OSError, TimeoutError, ConnectionError)


def retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry only I/O hiccups; a bad batch or a failing gate will not fix itself."""
    exc = state.data if isinstance(state.data, BaseException) else None
    if exc is None:
        return False
    if isinstance(exc, TRANSIENT):
        return True
    name = type(exc).__name__
    return name in {"OperationalError", "RestException"} and "locked" in str(exc).lower()


IO_RETRIES: dict[str, Any] = {"retries": 2, "retry_delay_seconds": 1, "retry_condition_fn": retry_transient}


def model_resource_id(model: str) -> str:
    """The event resource a model's triggers match on."""
    return f"retrain.model.{model}"


def artifact_key(*parts: str) -> str:
    """Artifact keys allow only lowercase letters, digits and dashes."""
    raw = "-".join(parts).lower()
    return "".join(c if c.isalnum() else "-" for c in raw).strip("-")


def publish_decision(model: str, version: str, decision: Any, trigger: str, search: dict | None = None) -> None:
    """A table a person can read in the UI: every gate rule, its outcome and the CI, and the search's top trials."""
    d = decision.to_dict()
    rows = [{"rule": "decision", "result": "PROMOTE" if d["promote"] else "REJECT"}]
    rows.append({"rule": "trigger", "result": trigger})
    rows.append({"rule": f"candidate {d['metric']}", "result": d.get("candidate_score")})
    rows.append({"rule": f"champion {d['metric']}", "result": d.get("champion_score")})
    boot = d.get("bootstrap") or {}
    if boot:
        rows.append(
            {
                "rule": f"{boot.get('confidence', 0.95):.0%} CI of difference",
                "result": f"{boot.get('mean_diff'):+.4f} [{boot.get('low'):+.4f}, {boot.get('high'):+.4f}]",
            }
        )
    rows += [{"rule": f"reason {n}", "result": r} for n, r in enumerate(d["reasons"], 1)]
    search = search or {}
    for trial in search.get("top", []):
        score = "failed" if trial["mean_score"] is None else f"cv {search['metric']} {trial['mean_score']:.4f}"
        rank = f"search #{trial['rank'] or '-'} trial {trial['trial']}"
        rows.append({"rule": rank, "result": f"{trial['label']}: {score}"})
    create_table_artifact(
        table=rows,
        key=artifact_key(model, "gate-decision"),
        description=f"Gate decision for {model} v{version} (champion v{d.get('champion_version')})",
    )


def publish_invalid_batches(model: str, failed: list[Any], moved: list[str]) -> None:
    """Say which batch failed, which expectations, and where the file went."""
    lines = [f"# {model}: batch validation failed", "", "Nothing was registered; the champion did not move.", ""]
    for intake, where in zip(failed, moved, strict=False):
        lines.append(f"## {intake.path.name}")
        lines.append(f"- quarantined to `{where}`")
        lines.append(f"- {intake.report.summary()}")
        for f in intake.report.failures[:20]:
            lines.append(f"  - `{f.expectation}` on `{f.column}`: {f.details}")
        lines.append("")
    create_markdown_artifact(markdown="\n".join(lines), key=artifact_key(model, "validation"))


def publish_approval_request(model: str, version: str, decision: Any, message: str) -> None:
    """What waits, why the gate passed it, and the two ways to answer."""
    d = decision.to_dict()
    lines = [
        f"# {model} v{version} waits for approval",
        "",
        message,
        "",
        f"- {d['metric']}: candidate {d.get('candidate_score')} vs champion "
        f"v{d.get('champion_version') or '-'} {d.get('champion_score')}",
    ]
    lines += [f"- {r}" for r in d.get("reasons", [])]
    lines += [
        "",
        f"Answer with the **approve/{model}** deployment (Run ▸ Custom run: version {version}, "
        f"tick *approve* or leave it unticked to reject) or `retrain approve {model} {version}` / "
        f"`retrain reject {model} {version}`.",
    ]
    create_markdown_artifact(markdown="\n".join(lines), key=artifact_key(model, "approval"))


def publish_review_queue(config: Any) -> None:
    """The queue size of every model and a link to the review page, one artifact the UI lists."""
    from base.settings_state import review_page_url
    from serving.review_queue import queue_sizes

    sizes = queue_sizes(config.home, url=config.serving_url)
    page = review_page_url()
    lines = ["# Review queue", "", f"Answer the rows on the review page: [{page}]({page})", ""]
    lines += ["| model | waiting | answered |", "| --- | ---: | ---: |"]
    lines += [f"| [{m}]({page}/models/{m}) | {w} | {a} |" for m, (w, a) in sorted(sizes.items())]
    create_markdown_artifact(markdown="\n".join(lines), key="review-queue", description="rows waiting for a person")
