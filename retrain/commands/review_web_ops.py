"""``retrain review serve`` (the review page) and ``retrain review add-user`` (its accounts)."""

from __future__ import annotations

from pathlib import Path

import typer

from retrain.commands.options import HOME, JSON, LEDGER, TRACKING
from retrain.output import console, emit


def review_serve(
    port: int = typer.Option(4300, "--port", help="Port of the review page."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    home: str = HOME,
    tracking_uri: str = TRACKING,
    ledger_url: str = LEDGER,
    serving_url: str = typer.Option(
        None, "--serving-url", envvar="RETRAIN_SERVING_URL", help="Database of the review queue (default: as `score`)."
    ),
    prediction_log: Path = typer.Option(None, "--prediction-log", help="Folder of the prediction log, if configured."),
) -> None:
    """Serve the review page: reviewers sign in and answer the queued rows in a browser."""
    from base.settings import resolve_home
    from retrain.review_web.server import gatekeeper, review_site, serve_page

    root = resolve_home(home)
    site = review_site(root, tracking_uri, serving_url, ledger_url, prediction_log)
    gatekeeper(root, site.tracking_uri)  # no one could sign in: say so before listening
    console().print(f"review page: http://{host}:{port}  (Ctrl-C stops it)", markup=False)
    serve_page(site, host, port)


def review_add_user(
    name: str = typer.Argument(..., help="The reviewer's name, as answers will record it."),
    accounts: Path = typer.Option(
        None, "--file", envvar="RETRAIN_REVIEWERS_FILE", help="Accounts file (default HOME/reviewers)."
    ),
    print_only: bool = typer.Option(False, "--print", help="Only print NAME:HASH (for RETRAIN_REVIEWERS)."),
    home: str = HOME,
    as_json: bool = JSON,
) -> None:
    """Add a reviewer (or change their password): the password is asked twice and only its hash is kept."""
    from base.settings import resolve_home
    from retrain.review_web.accounts import add_account, check_name, hash_password

    check_name(name)
    password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    if print_only:
        emit({"account": f"{name}:{hash_password(password)}"}, as_json, lambda d: print(d["account"]))
        return
    path = accounts or resolve_home(home) / "reviewers"
    add_account(path, name, password)
    emit({"name": name, "file": str(path)}, as_json, lambda d: console().print(f"reviewer {name} saved in {path}"))


def register(review_app: typer.Typer) -> None:
    review_app.command("serve")(review_serve)
    review_app.command("add-user")(review_add_user)
