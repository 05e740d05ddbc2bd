"""``retrain status MODEL`` as a model card: what serves, how it got there, what is waiting.

About 35 raw tags per version answer every question and none at a glance. The card says, in
sentences a person reads in the terminal: the champion and since when, the trigger and the
gate's verdict, its metric against the version it replaced, the data it learnt from, the
challenger and why it is not champion, holds and blocks, the last drift check, the next
scheduled run and what to run about each warning. The raw tags stay one flag away (``--all``)
and in ``--json``.
"""

from __future__ import annotations

from typing import Any

from retrain.output import console

MAX_REASON = 88  # a reason fits one line of a 100-column terminal
MAX_REASONS = 3


def render_card(info: dict) -> None:
    from rich.markup import escape

    from retrain.commands.status_view import render_guards

    out = console()
    out.print(f"[bold]{info['name']}[/] — {info['versions']} version(s)")
    for note in info.get("notes", []):
        out.print(f"[yellow]settled:[/] {escape(note)}")
    for line in champion_lines(info.get("champion")):
        out.print(line)
    for line in challenger_lines(info.get("challenger"), info.get("champion")):
        out.print(line)
    if info.get("waiting_approval"):
        v = info["waiting_approval"]
        out.print(
            f"v{v} waits for approval: `retrain approve {info['name']} {v}` or `retrain reject {info['name']} {v}`"
        )
    render_guards(info)
    for line in watch_lines(info):
        out.print(line)
    out.print(f"[dim]every tag: retrain status {info['name']} --all (or --json)[/]")
    for warning in info.get("warnings", []):
        console(stderr=True).print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)


def champion_lines(version: dict[str, Any] | None) -> list[str]:
    if not version:
        return ["[bold]champion[/]  none yet: `retrain run CONFIG` trains and gates the first"]
    tags = version.get("tags", {})
    since = (tags.get("retrain.promoted_at") or version.get("created_at") or "")[:16].replace("T", " ")
    how = tags.get("retrain.promotion_action") or "promote"
    trigger = tags.get("retrain.trigger", "-")
    lines = [f"[bold green]champion[/]  v{version['version']} since {since or '-'} ({how}, trigger {trigger})"]
    lines.append(f"  gate      {verdict_sentence(tags)}")
    lines.append(f"  data      {data_sentence(tags)}")
    lines.append(f"  batches   {tags.get('validation', '-')}")
    lines.append(f"  metrics   {metric_line(version.get('metrics', {}))}")
    if tags.get("serving.threshold") not in (None, "null"):
        lines.append(f"  serving   {serving_sentence(tags)}")
    return lines


def challenger_lines(version: dict[str, Any] | None, champion: dict[str, Any] | None) -> list[str]:
    if not version or (champion and str(version["version"]) == str(champion["version"])):
        return ["[bold]challenger[/] none"]
    tags = version.get("tags", {})
    from registry.approvals import outcome_of

    outcome = outcome_of(tags) or "challenger"
    failing = [r for r in split_reasons(tags.get("gate.reasons", "")) if r.startswith("fail")]
    why = failing or [tags.get("retrain.outcome_note") or "-"]
    lines = [f"[bold yellow]challenger[/] v{version['version']} ({outcome})", f"  gate      {verdict_sentence(tags)}"]
    return lines + [f"  why       {clip(reason)}" for reason in why[:MAX_REASONS]]


def verdict_sentence(tags: dict[str, Any]) -> str:
    metric = tags.get("gate.metric", "metric")
    decision = tags.get("gate.decision", "-")
    candidate = number(tags.get("gate.candidate_score"))
    before = tags.get("gate.champion_score")
    versus = (
        f"vs {number(before)} of v{tags.get('gate.champion_version', '?')}"
        if before not in (None, "", "null")
        else "(no champion before)"
    )
    return f"{decision}: {metric} {candidate} {versus}"


def data_sentence(tags: dict[str, Any]) -> str:
    train = (tags.get("train_window") or "-").split("..")
    holdout = (tags.get("holdout_window") or "-").split("..")
    return (
        f"train {span(train)} ({rows(tags.get('train_rows'))} rows), "
        f"holdout {span(holdout)} ({rows(tags.get('holdout_rows'))} rows)"
    )


def serving_sentence(tags: dict[str, Any]) -> str:
    threshold = number(tags.get("serving.threshold"))
    mode = str(tags.get("serving.mode", "-")).strip('"')
    rate = tags.get("serving.holdout_review_rate")
    share = f", {float(rate):.1%} of holdout rows to review" if rate not in (None, "null") else ""
    return f"review below confidence {threshold} ({mode}){share}"


def watch_lines(info: dict) -> list[str]:
    drift, next_run = info.get("last_drift"), info.get("next_run")
    said = "-" if not drift else f"{drift['verdict']} on {drift.get('batch') or '-'} at {(drift['when'] or '')[:16]}"
    upcoming = next_run[:19] if next_run else "none on this Prefect server"
    return [f"last drift check: {said}", f"next scheduled run: {upcoming}"]


def metric_line(metrics: dict[str, float]) -> str:
    return " · ".join(f"{k} {number(v)}" for k, v in sorted(metrics.items())) or "-"


def split_reasons(text: str) -> list[str]:
    return [part.strip() for part in str(text).split("; ") if part.strip()]


def span(bounds: list[str]) -> str:
    return "..".join(b[:10] for b in bounds)


def rows(value: Any) -> str:
    try:
        return f"{int(float(value)):,}"
    except (TypeError, ValueError):
        return "-"


def number(value: Any) -> str:
    try:
        return f"{float(value):.3f}"
    except (TypeError, ValueError):
        return "-"


def clip(text: str) -> str:
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"
