"""Monitoring and orchestration commands: ``drift``, ``serve``, ``ui``.

``retrain drift`` is a CI gate: it runs the check without Prefect and exits 9 when a signal
the model's policy cares about shows up. The others talk to a Prefect server: the one in
``PREFECT_API_URL``, else the home's shared server (``retrain server``, also the one a
running ``retrain ui`` records), else 127.0.0.1:4200. Importing this
module loads only Typer and our light modules; each command imports what it needs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

from base.exitcodes import Exit
from retrain.commands.batch_source import BATCH_HELP, load_with_source
from retrain.commands.options import HOME, JSON, REPORT, TRACKING, load_or_exit
from retrain.output import console, emit, fail

API = typer.Option(
    None,
    "--api-url",
    envvar="PREFECT_API_URL",
    help="Prefect API (default: the `retrain ui` server at http://127.0.0.1:4200/api).",
)


def drift(
    config: Path = typer.Argument(..., help="Model config (YAML)."),
    batch: str = typer.Argument(..., help="Batch to compare with the champion: " + BATCH_HELP),
    report: Path = REPORT,
    as_json: bool = JSON,
) -> None:
    """Validate a batch and compare it with the champion's training data; exit 9 on drift or decay,
    14 when the batch is too small for a drift verdict."""
    cfg, path = load_with_source(config, batch, as_json)
    from monitoring.check import NoChampion, run_drift_check
    from monitoring.drift_types import DriftInputError
    from registry.snapshots import SnapshotMissing

    try:
        result = run_drift_check(cfg, path)
    except NoChampion as err:
        raise fail(str(err), Exit.UNKNOWN_MODEL, as_json) from None
    except SnapshotMissing as err:
        raise fail(f"{err}; retrain once so the champion carries one", Exit.ERROR, as_json) from None
    except DriftInputError as err:
        raise fail(f"{path.name}: {err}", Exit.DATA_INVALID, as_json) from None
    data = result.to_dict()
    if report is not None:
        from retrain.report import drift_markdown, write_report

        data["reports"] = [write_report(report, drift_markdown(data))]
    emit(data, as_json, lambda _: render_check(result, data.get("reports", [])))
    if result.status == "data_invalid":
        raise typer.Exit(int(Exit.DATA_INVALID))
    if result.status == "insufficient_data":
        raise typer.Exit(int(Exit.INSUFFICIENT_DATA))
    raise typer.Exit(int(Exit.DRIFT if result.signals else Exit.OK))


def render_check(result: Any, reports: list[str] | None = None) -> None:
    out = console()
    colour = {"ok": "green", "signal": "yellow", "insufficient_data": "yellow"}.get(result.status, "red")
    out.print(f"[bold {colour}]{result.status.upper()}[/] {result.summary()}")
    for path in reports or []:
        out.print(f"  report: {path}")


def connect_api(api_url: str | None, home: Path | None, as_json: bool) -> str:
    """Point this process at a reachable Prefect server before Prefect is imported.

    ``home`` (created if missing) only matters to commands that read model state; answering
    an approval needs none, so it leaves the working folder alone.
    """
    from retrain.processes.health import answers
    from retrain.processes.ui_servers import prefect_api_url
    from retrain.runtime import prepare_prefect

    url = (api_url or home_server_url(home) or prefect_api_url()).rstrip("/")
    if not answers(f"{url}/health"):
        hint = "" if api_url else " (start one with `retrain server start` or `retrain ui`, or set PREFECT_API_URL)"
        raise fail(f"no Prefect server answers at {url}{hint}", Exit.ERROR, as_json)
    os.environ["PREFECT_API_URL"] = url
    if home is not None:
        prepare_prefect(home, quiet=as_json)
    else:
        os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    return url


def home_server_url(home: Path | None) -> str | None:
    """The URL of the home's shared server (``retrain server``) when one is recorded and ours;
    marked in use, so it does not stop for being idle while ``serve`` runs deployments on it."""
    from base.settings import resolve_home
    from retrain.processes.home_server import shared_server_url

    return shared_server_url(home if home is not None else resolve_home())


def serve(
    configs: list[Path] = typer.Argument(..., help="Model configs (YAML), one per model."),
    register_only: bool = typer.Option(
        False, "--register-only", "--dry-run", help="Create or update the deployments, then exit without serving."
    ),
    limit: int = typer.Option(None, "--limit", help="Most flow runs this process runs at once."),
    api_url: str = API,
    as_json: bool = JSON,
) -> None:
    """Register and serve, per model: scheduled + triggered retrain, drift check, rollback, promote."""
    cfgs = [load_or_exit(path, as_json) for path in configs]
    names = [c.name for c in cfgs]
    if len(set(names)) != len(names):
        raise fail(f"two configs name the same model: {', '.join(sorted(names))}", Exit.USAGE, as_json)
    url = connect_api(api_url, cfgs[0].home, as_json)
    from flows.deploy import register_deployments, serve_deployments
    from flows.notify import prepare_notifications, setup_notifications

    built = prepare_notifications(cfgs)  # a missing secret stops here, before anything is registered
    registered = register_deployments(cfgs)
    notifications = setup_notifications(cfgs, built)
    emit({"api_url": url, "deployments": registered, "notifications": notifications}, as_json, render_deployments)
    if register_only:
        return
    console(stderr=as_json).print("serving; press Ctrl-C to stop (schedules stay active)")
    from retrain.stopping import leave_to_command

    leave_to_command()
    serve_deployments(cfgs, limit=limit)


def render_deployments(data: dict) -> None:
    from rich.table import Table

    table = Table("deployment", "every (h)", "triggered by", "limit", title=f"deployments on {data['api_url']}")
    for d in data["deployments"]:
        table.add_row(
            d["deployment"],
            ", ".join(f"{h:g}" for h in d["every_hours"]) or "-",
            ", ".join(d["triggers"]) or "-",
            str(d["concurrency_limit"] or "-"),
        )
    console().print(table)
    render_notifications(data.get("notifications") or [])


def render_notifications(rows: list[dict]) -> None:
    """One line per model and destination: where its automation sends which events."""
    from rich.markup import escape

    for r in rows:
        console().print(
            f"notify {r['destination']} ({r['kind']}, {escape(r['where'])}) of {r['model']}: "
            f"{len(r['events'])} event(s), automation {r['action']}",
            soft_wrap=True,
        )


def ui(
    home: str = HOME,
    tracking_uri: str = TRACKING,
    prefect_port: int = typer.Option(4200, "--prefect-port", help="Port of the Prefect server and UI."),
    mlflow_port: int = typer.Option(5000, "--mlflow-port", help="Port of the MLflow UI."),
    review_port: int = typer.Option(4300, "--review-port", help="Port of the review page."),
) -> None:
    """Start the Prefect server, the MLflow UI and the review page on 127.0.0.1; Ctrl-C stops them."""
    from base.settings import default_tracking_uri, resolve_home
    from retrain.processes.ui_servers import run_ui
    from retrain.stopping import leave_to_command

    leave_to_command()
    root = resolve_home(home)
    root.mkdir(parents=True, exist_ok=True)
    out = console()
    code = run_ui(
        root,
        tracking_uri or default_tracking_uri(root),
        prefect_port,
        mlflow_port,
        say=lambda line: out.print(line, markup=False, soft_wrap=True),
        review_port=review_port,
    )
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Attach ``drift``, ``serve`` and ``ui`` to the main app."""
    app.command()(drift)
    app.command()(serve)
    app.command()(ui)
