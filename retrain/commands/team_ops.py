"""Team commands: ``server up|down`` (Prefect and MLflow on PostgreSQL with credentials) and
``deploy`` (the deployments of ``retrain serve`` on a Prefect work pool, for workers to run).

``retrain serve`` runs every model's flows in one process; a team runs the servers as
services and lets any number of ``prefect worker start --pool NAME`` processes pick the runs
up. These commands print what to export, never a secret: passwords show as ``***``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from retrain.commands.options import HOME, JSON, load_or_exit
from retrain.output import console, emit, fail

STATE = typer.Option(None, "--state", help="Folder for the servers' pids, logs and auth config (default HOME/team).")


def state_folder(state: Path | None, home: str | None) -> Path:
    from base.settings import resolve_home

    return (state or resolve_home(home) / "team").resolve()


def say_team(data: dict[str, Any]) -> None:
    out = console()
    out.print(f"team servers ({data['state']}): {data['status']}", markup=False, soft_wrap=True)
    if "env" not in data:
        return
    out.print(f"  Prefect UI: {data['env']['PREFECT_API_URL'].removesuffix('/api')}", markup=False)
    out.print(f"  MLflow UI:  {data['env']['RETRAIN_TRACKING_URI']}", markup=False)
    out.print("point Retrain and the workers at them (fill in the values marked ***):", markup=False)
    for key, value in data["env"].items():
        out.print(f"  export {key}={value}", markup=False, soft_wrap=True)


def up(
    database_url: str = typer.Option(
        ..., "--database-url", help="postgresql://USER@HOST:PORT/PREFIX; databases PREFIX_* are created if missing."
    ),
    artifacts: Path = typer.Option(
        None, "--artifacts", help="Folder of the served artifact store (default STATE/artifacts)."
    ),
    prefect_port: int = typer.Option(4200, "--prefect-port", help="Port of the Prefect server."),
    mlflow_port: int = typer.Option(5000, "--mlflow-port", help="Port of the MLflow tracking server."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address both servers listen on."),
    state: Path = STATE,
    home: str = HOME,
    as_json: bool = JSON,
) -> None:
    """Start Prefect and MLflow on PostgreSQL with credentials (MLFLOW_TRACKING_USERNAME/PASSWORD,
    PREFECT_API_AUTH_STRING) and print what clients export."""
    from retrain.processes.team import start_team

    folder = state_folder(state, home)
    record, started = start_team(database_url, folder, artifacts, (prefect_port, mlflow_port), host)
    data = {
        "state": str(folder),
        "status": "started" if started else "already running",
        "prefect_pid": record.prefect_pid,
        "mlflow_pid": record.mlflow_pid,
        "databases": record.databases,
        "artifacts": record.artifacts,
        "logs": record.logs,
        "env": record.client_env(),
    }
    emit(data, as_json, say_team)


def down(state: Path = STATE, home: str = HOME, as_json: bool = JSON) -> None:
    """Stop the servers `retrain server up` started (the databases stay)."""
    from retrain.processes.team import stop_team

    folder = state_folder(state, home)
    record = stop_team(folder)
    emit({"state": str(folder), "status": "stopped" if record else "not running"}, as_json, say_team)


def deploy(
    configs: list[Path] = typer.Argument(..., help="Model configs (YAML), one per model."),
    pool: str = typer.Option(..., "--pool", help="Prefect work pool (type process; created if missing)."),
    api_url: str = typer.Option(None, "--api-url", envvar="PREFECT_API_URL", help="Prefect API URL."),
    as_json: bool = JSON,
) -> None:
    """Register the deployments of `retrain serve` on a work pool; `prefect worker start --pool NAME` runs them."""
    from base.exitcodes import Exit
    from retrain.commands.monitoring_ops import connect_api, render_deployments

    cfgs = [load_or_exit(path, as_json) for path in configs]
    names = [c.name for c in cfgs]
    if len(set(names)) != len(names):
        raise fail(f"two configs name the same model: {', '.join(sorted(names))}", Exit.USAGE, as_json)
    url = connect_api(api_url, cfgs[0].home, as_json)
    from flows.deploy import deploy_to_pool
    from flows.notify import prepare_notifications, setup_notifications

    built = prepare_notifications(cfgs)  # a missing secret stops here, before anything is registered
    registered = deploy_to_pool(cfgs, pool)
    notifications = setup_notifications(cfgs, built)
    data = {"api_url": url, "pool": pool, "deployments": registered, "notifications": notifications}
    emit(data, as_json, render_deployments)
    if not as_json:
        console().print(f"start workers with: prefect worker start --pool {pool}", markup=False)


def register(app: typer.Typer) -> None:
    """Attach ``server up|down`` and ``deploy`` to the main app."""
    from retrain.commands.server_ops import server_app

    server_app.command("up")(up)
    server_app.command("down")(down)
    app.command()(deploy)
