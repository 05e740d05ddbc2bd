"""``retrain endpoint``: serve a model's champion over HTTP, following the alias.

Like ``score``, it takes the model's config (the suite, constraints and serving settings come
from it); the service runs in this process until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

from pathlib import Path

import typer

from retrain.commands.options import load_checked
from retrain.output import console


def endpoint(
    config: Path = typer.Argument(..., help="Model config (YAML): the model, its suite and its serving settings."),
    port: int = typer.Option(8080, "--port", min=1, max=65535, help="TCP port to listen on."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0: every interface)."),
) -> None:
    """Serve MODEL's champion over HTTP (POST /invocations, GET /health, /version), following `champion`.

    Every request is checked like a scored batch (suite, constraints); answered rows go to the
    prediction log, unsure ones to the review queue. A promotion or rollback is served within
    serving.endpoint.poll_seconds; with serving.shadow the challenger scores every row in the shadows.
    """
    cfg = load_checked(config, False)
    from base.environment import quiet_libraries
    from retrain.endpoint import build_app, run_app

    quiet_libraries()
    app = build_app(cfg)  # the champion is loaded and warmed before the port opens
    current = app.state.follower.current
    every = cfg.serving.endpoint.poll_seconds
    shadow = "" if current.challenger is None else f", challenger v{current.challenger.version} in the shadows"
    console().print(
        f"[bold green]SERVING[/] {cfg.name} v{current.champion.version} on http://{host}:{port}/invocations "
        f"(follows champion every {every:g} s{shadow})"
    )
    run_app(app, host, port)


def register(app: typer.Typer) -> None:
    app.command()(endpoint)
