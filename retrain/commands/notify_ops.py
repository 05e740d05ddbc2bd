"""``retrain notify test CONFIG``: one test message to every destination, and which answered.

The message goes out from this process through the very block ``retrain serve`` saves for
the destination (``flows.notify.build_block``), so a wrong URL, a missing variable or a mail
server that refuses shows here, before a real decision needs telling. A destination that
failed is a row of the table and exit 15; the others still get their message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from retrain.commands.options import JSON, load_or_exit
from retrain.output import console, emit, report_error

notify_app = typer.Typer(help="Notifications of a model's decisions (Slack, Teams, e-mail, webhooks).")

API = typer.Option(None, "--api-url", envvar="PREFECT_API_URL", help="Prefect API (for url_secret/password_secret).")


def test(
    config: Path = typer.Argument(..., help="Model config (YAML) with a notifications section."),
    api_url: str = API,
    as_json: bool = JSON,
) -> None:
    """Send one test message to every destination of the config; exit 15 when one did not take it."""
    cfg = load_or_exit(config, as_json)
    from base.environment import quiet_libraries
    from base.errors import Kind, RetrainError

    if not cfg.notifications.destinations:
        empty = RetrainError(f"{config}: notifications.destinations is empty: nothing to test", kind=Kind.USAGE)
        raise typer.Exit(int(report_error(empty, as_json)))
    if any(d.url_secret or d.password_secret for d in cfg.notifications.destinations):
        from retrain.commands.monitoring_ops import connect_api

        connect_api(api_url, cfg.home, as_json)
    quiet_libraries()
    from flows.notify import send_test

    try:
        checks = [c.to_dict() for c in send_test(cfg)]
    except RetrainError as err:
        raise typer.Exit(int(report_error(err, as_json, model=cfg.name))) from None
    failed = [c["destination"] for c in checks if not c["answered"]]
    data = {"model": cfg.name, "destinations": checks}
    if failed:
        if not as_json:
            render_checks(data)
        problem = RetrainError(
            f"{len(failed)} destination(s) did not answer: {', '.join(failed)}", kind=Kind.NOTIFY_FAILED
        )
        raise typer.Exit(int(report_error(problem, as_json, **data)))
    emit(data, as_json, render_checks)


def render_checks(data: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    title = f"test message for {data['model']}"
    table = Table("destination", "kind", "where", "answered", "seconds", "error", title=title)
    for c in data["destinations"]:
        answered = "[green]yes[/]" if c["answered"] else "[red]no[/]"
        seconds = f"{c['seconds']:.2f}"
        table.add_row(c["destination"], c["kind"], escape(c["where"]), answered, seconds, escape(c["error"]))
    console().print(table)


def register(app: typer.Typer) -> None:
    """Attach ``notify test`` to the main app."""
    notify_app.command("test")(test)
    app.add_typer(notify_app, name="notify")
