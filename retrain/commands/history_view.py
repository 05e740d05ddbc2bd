"""``retrain history MODEL`` on a terminal: every champion change, releases, holds and blocks."""

from __future__ import annotations

from retrain.commands.status_view import render_guards
from retrain.output import console


def metrics_text(metrics: dict) -> str:
    return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in sorted(metrics.items()))


def render_history(data: dict) -> None:
    from rich.table import Table

    from retrain.commands.quarantine_ops import render_releases

    out = console()
    render_releases(data.get("releases") or [])
    if not data["entries"]:
        out.print(f"{data['model']}: no champion changes recorded")
        return
    table = Table(
        "#",
        "time (UTC)",
        "action",
        "from",
        "to",
        "status",
        "actor",
        "reason",
        "metrics",
        title=f"{data['model']}: champion history (champion now: {data['champion'] or 'none'})",
    )
    for e in data["entries"]:
        colour = {"applied": "green", "failed": "red"}.get(e["status"], "yellow")
        table.add_row(
            str(e["id"]),
            e["created_at"][:19].replace("T", " "),
            e["action"],
            e["from_version"] or "-",
            e["to_version"],
            f"[{colour}]{e['status']}[/]",
            e["actor"] or "",
            e["reason"] or "",
            metrics_text(e["metrics"]),
        )
    out.print(table)
    for e in data["entries"]:
        if e["note"]:
            out.print(f"  #{e['id']}: {e['note']}")
    render_guards(data)
    if data["champion"] != data["ledger_champion"]:
        console(stderr=True).print(
            f"[yellow]warning:[/] MLflow's champion is {data['champion'] or 'none'} but the "
            f"ledger's last is {data['ledger_champion']}: the alias was moved outside Retrain"
        )
