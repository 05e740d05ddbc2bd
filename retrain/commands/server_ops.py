"""``retrain server start|status|stop``: the Prefect server a Retrain home shares between commands.

``retrain run`` and ``retrain demo`` start it on demand, so these commands exist to look at
it, to start it ahead of time (a CI job that runs several retrains), and to stop it: the
home owns that server, and nothing else ends it. Only the standard library is imported.
"""

from __future__ import annotations

from typing import Any

import typer

from base.exitcodes import Exit
from retrain.commands.options import HOME, JSON
from retrain.output import console, emit, fail

server_app = typer.Typer(help="The Prefect server a Retrain home shares between commands.", no_args_is_help=True)


def describe(home: Any, record: Any, state: str) -> dict[str, Any]:
    data: dict[str, Any] = {"home": str(home), "state": state}
    if record is not None:
        data |= {"url": record.url, "pid": record.pid, "owner": record.owner, "started_at": record.started_at}
    return data


def say_state(data: dict[str, Any]) -> None:
    where = f" at {data['url']} (pid {data['pid']}, {data['owner']})" if "url" in data else ""
    console().print(f"Prefect server of {data['home']}: {data['state']}{where}", markup=False, soft_wrap=True)


def start(home: str = HOME, as_json: bool = JSON) -> None:
    """Start the home's Prefect server now (or report the one already running)."""
    from base.settings import resolve_home
    from retrain.processes.home_record import ServerError
    from retrain.processes.home_server import ensure_server

    root = resolve_home(home)
    say = None if as_json else (lambda line: console(stderr=True).print(line, markup=False, soft_wrap=True))
    try:
        record = ensure_server(root, say=say)
    except ServerError as err:
        raise fail(str(err), Exit.ERROR, as_json) from None
    emit(describe(root, record, "running"), as_json, say_state)


def status(home: str = HOME, as_json: bool = JSON) -> None:
    """Whether the home's Prefect server runs, where, and which process it is."""
    from base.settings import resolve_home
    from retrain.processes.home_server import server_state
    from retrain.processes.pids import find_orphans

    root = resolve_home(home)
    record, state = server_state(root)
    data = describe(root, record, state)
    data["orphans"] = find_orphans(root)
    emit(data, as_json, say_state)


def stop(home: str = HOME, as_json: bool = JSON) -> None:
    """Stop the home's Prefect server and any server a killed command left behind."""
    from base.settings import resolve_home
    from retrain.processes.home_record import ServerError
    from retrain.processes.home_server import stop_server

    root = resolve_home(home)
    try:
        record = stop_server(root)
    except ServerError as err:
        raise fail(str(err), Exit.USAGE, as_json) from None
    emit(describe(root, record, "stopped" if record else "not running"), as_json, say_state)


def register(app: typer.Typer) -> None:
    """Attach ``server start|status|stop`` to the main app."""
    server_app.command("start")(start)
    server_app.command("status")(status)
    server_app.command("stop")(stop)
    app.add_typer(server_app, name="server")
