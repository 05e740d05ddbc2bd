"""``retrain status MODEL`` on a terminal: the champion, the challenger and what guards them."""

from __future__ import annotations

from retrain.output import console


def render_status(info: dict) -> None:
    from rich.table import Table

    out = console()
    out.print(f"[bold]{info['name']}[/] — {info['versions']} version(s)")
    for note in info.get("notes", []):
        out.print(f"[yellow]settled:[/] {note}")
    render_guards(info)
    if info.get("waiting_approval"):
        out.print(
            f"v{info['waiting_approval']} waits for approval: `retrain approve {info['name']} "
            f"{info['waiting_approval']}` or `retrain reject ...`"
        )
    for role in ("champion", "challenger"):
        v = info.get(role)
        if not v:
            out.print(f"  {role}: none")
            continue
        table = Table(title=f"{role}: v{v['version']}", show_header=False, title_justify="left")
        for key, value in sorted({**v.get("metrics", {}), **v.get("tags", {})}.items()):
            table.add_row(key, str(value)[:100])
        out.print(table)
    for warning in info.get("warnings", []):
        from rich.markup import escape

        console(stderr=True).print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)


def render_guards(data: dict) -> None:
    """Holds, blocks and a running retrain, shared by ``history`` and ``status``."""
    out = console()
    if data.get("hold"):
        h = data["hold"]
        out.print(
            f"[bold yellow]on hold[/] since {h['created_at'][:19]} by {h['actor']}: {h['reason'] or '-'} "
            f"(automatic promotions wait for `retrain release {data.get('model') or data.get('name')}`)"
        )
    for b in data.get("blocks") or []:
        out.print(
            f"[yellow]blocked[/] v{b['version']} (fingerprint {b['fingerprint'] or '-'}) by {b['actor']}: "
            f"{b['reason'] or '-'}"
        )
    if data.get("running"):
        r = data["running"]
        out.print(f"retrain running: {r['owner']} pid {r['pid']} on {r['host']} since {r['acquired_at'][:19]}")
