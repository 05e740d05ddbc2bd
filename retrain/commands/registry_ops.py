"""Registry commands: ``rollback``, ``promote`` and ``history`` of a model's champion.

These are what the person on call types, so they name the model, not a config file, and
find the stores from ``--home`` / ``RETRAIN_HOME`` (or ``--config``). ``rollback`` must
start fast: this module imports only Typer and our light modules, and the commands import
MLflow and SQLAlchemy when they run, never Prefect, GX or Evidently. Every command first
reconciles the model's pending ledger entries and says what it decided.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from retrain.commands.history_view import render_history
from retrain.commands.options import CONFIG_OPT, HOME, JSON, LEDGER, MODEL, TRACKING, resolve_stores
from retrain.output import console, emit, report_error

if TYPE_CHECKING:
    from registry.ledger import Stores

EXPECT = typer.Option(
    None, "--expect-current", help="Refuse (exit 8) unless the champion is still this version ('none' = no champion)."
)


def _reconcile_first(stores: "Stores", model: str, as_json: bool, home: str | None = None) -> list[dict]:
    """Resolve what a crash left pending or stranded before anything else, and tell the user;
    a champion moved in MLflow is recorded and announced once, as a retrain would."""
    from registry.approvals import settle
    from registry.moves import reconcile
    from registry.store import client_for
    from retrain.cli_events import announce_outside_moves

    recorded = reconcile(stores, None, model)
    announce_outside_moves(home, stores.tracking_uri, recorded)
    notes = [n.to_dict() for n in recorded]
    notes += [{"message": text} for text in settle(stores, client_for(stores.tracking_uri), model)]
    if not as_json:
        for note in notes:
            console(stderr=True).print(f"[yellow]reconciled:[/] {note['message']}")
    return notes


def _execute(stores: "Stores", model: str, act: Callable[[], Any], as_json: bool, home: str | None = None) -> None:
    """Run one move and turn our errors into their exit codes; a change is announced once, as its flow does."""
    from base.environment import quiet_libraries

    quiet_libraries()
    notes = _reconcile_first(stores, model, as_json, home)
    from base.errors import RetrainError

    try:
        result = act()
    except RetrainError as err:
        raise typer.Exit(int(report_error(err, as_json, model=model, reconciled=notes))) from None
    data = result.to_dict()
    data["reconciled"] = notes + data["reconciled"]
    data["events"] = _announce_move(stores, home, data) if data["changed"] else []
    emit(data, as_json, render_result)


def _announce_move(stores: "Stores", home: str | None, data: dict) -> list[dict]:
    from base.notices import move_payload
    from base.vocabulary import DecisionEvent
    from retrain.cli_events import send_event

    event = DecisionEvent.ROLLED_BACK if data["action"] == "rollback" else DecisionEvent.PROMOTED
    payload = move_payload(data, stores.tracking_uri)
    return [send_event(home, event, data["model"], payload, payload["version"])]


def render_answer(data: dict) -> None:
    console().print(f"{data['verdict']}: {data['message']}")
    render_events(data["events"])


def render_events(events: list[dict]) -> None:
    """Say what reached the Prefect server; with no server at all (nothing listens) say nothing."""
    for e in events:
        if e["sent"]:
            console(stderr=True).print(f"[dim]announced {e['event']}[/]", soft_wrap=True)
        elif e.get("server"):
            console(stderr=True).print(f"[yellow]not announced:[/] {e['event']}: {e.get('why', '')}", soft_wrap=True)


def render_result(data: dict) -> None:
    out = console()
    if not data["changed"]:
        out.print(f"{data['model']}: version {data['to_version']} already is champion; nothing changed")
        return
    verb = "rolled back" if data["action"] == "rollback" else "promoted"
    out.print(
        f"[green]{data['model']}: {verb}[/], champion {data['from_version'] or '(none)'} -> "
        f"[bold]{data['to_version']}[/] (ledger entry {data['entry_id']}, by {data['actor']})"
    )
    for warning in data["warnings"]:
        console(stderr=True).print(f"[yellow]warning:[/] {warning}")
    render_events(data.get("events") or [])


def rollback(
    model: str = MODEL,
    to: str = typer.Option(None, "--to", help="Version to restore (default: the champion before the current one)."),
    reason: str = typer.Option("", "--reason", help="Why, recorded in the ledger."),
    expect_current: str = EXPECT,
    hold: bool = typer.Option(False, "--hold", help="Also freeze automatic promotions until `retrain release`."),
    home: str = HOME,
    tracking_uri: str = TRACKING,
    ledger_url: str = LEDGER,
    config: Path = CONFIG_OPT,
    as_json: bool = JSON,
) -> None:
    """Put the previous champion back in one step; run again to step further back.

    The version taken away is blocked: a retrain that would rebuild it (same data, recipe and
    code) is never promoted automatically.
    """
    stores = resolve_stores(home, tracking_uri, ledger_url, config, as_json)
    from registry.promotion import rollback as roll_back

    _execute(
        stores,
        model,
        lambda: roll_back(stores, None, model, to=to, reason=reason or None, expect_current=expect_current, hold=hold),
        as_json,
        home,
    )


def release(
    model: str = MODEL,
    home: str = HOME,
    tracking_uri: str = TRACKING,
    ledger_url: str = LEDGER,
    config: Path = CONFIG_OPT,
    as_json: bool = JSON,
) -> None:
    """End a hold set by `rollback --hold`: automatic promotions resume with the next retrain."""
    stores = resolve_stores(home, tracking_uri, ledger_url, config, as_json)
    from registry.promotion import release as release_hold

    data = release_hold(stores, model)
    emit(
        data,
        as_json,
        lambda d: console().print(
            f"{model}: hold released (set by {d['hold']['actor']})" if d["released"] else f"{model}: no hold to release"
        ),
    )


def _answer(
    model: str,
    version: str | None,
    approve: bool,
    comment: str,
    approver: str | None,
    stores: "Stores",
    as_json: bool,
    home: str | None = None,
) -> None:
    from base.environment import actor, quiet_libraries
    from base.errors import RetrainError
    from base.exitcodes import Exit
    from registry.approvals import answer_approval
    from registry.champion import make_client

    quiet_libraries()
    try:
        answer = answer_approval(stores, make_client(stores), model, version, approve, approver or actor(), comment)
    except RetrainError as err:
        raise typer.Exit(int(report_error(err, as_json, model=model))) from None
    from base.notices import approval_payload
    from retrain.cli_events import send_event

    data = answer.to_dict()
    event, payload = approval_payload(data, stores.tracking_uri)
    data["events"] = [send_event(home, event, model, payload, payload["version"])]
    emit(data, as_json, render_answer)
    if answer.verdict == "superseded":
        raise typer.Exit(int(Exit.EXPECTATION_MISMATCH))


def approve(
    model: str = MODEL,
    version: str = typer.Argument(None, help="Waiting version (default: the one that waits)."),
    comment: str = typer.Option("", "--comment", help="Why, recorded in the promotion ledger."),
    approver: str = typer.Option(None, "--as", help="Who approves (default: RETRAIN_ACTOR or user@host)."),
    home: str = HOME,
    tracking_uri: str = TRACKING,
    ledger_url: str = LEDGER,
    config: Path = CONFIG_OPT,
    as_json: bool = JSON,
) -> None:
    """Approve a candidate that waits for approval: it becomes champion if the champion did not move."""
    stores = resolve_stores(home, tracking_uri, ledger_url, config, as_json)
    _answer(model, version, True, comment, approver, stores, as_json, home)


def reject(
    model: str = MODEL,
    version: str = typer.Argument(None, help="Waiting version (default: the one that waits)."),
    comment: str = typer.Option("", "--comment", help="Why, recorded on the version and its block."),
    approver: str = typer.Option(None, "--as", help="Who rejects (default: RETRAIN_ACTOR or user@host)."),
    home: str = HOME,
    tracking_uri: str = TRACKING,
    ledger_url: str = LEDGER,
    config: Path = CONFIG_OPT,
    as_json: bool = JSON,
) -> None:
    """Reject a candidate that waits for approval: it stays challenger and is blocked."""
    stores = resolve_stores(home, tracking_uri, ledger_url, config, as_json)
    _answer(model, version, False, comment, approver, stores, as_json, home)


def promote(
    model: str = MODEL,
    version: str = typer.Argument(..., help="Version to make champion."),
    reason: str = typer.Option(..., "--reason", help="Why, recorded in the ledger (required)."),
    expect_current: str = EXPECT,
    home: str = HOME,
    tracking_uri: str = TRACKING,
    ledger_url: str = LEDGER,
    config: Path = CONFIG_OPT,
    as_json: bool = JSON,
) -> None:
    """Make a chosen version champion by hand, through the same ledger as the gate."""
    stores = resolve_stores(home, tracking_uri, ledger_url, config, as_json)
    from registry.promotion import promote as promote_version

    _execute(
        stores,
        model,
        lambda: promote_version(stores, None, model, version, reason, expect_current=expect_current),
        as_json,
        home,
    )


def history(
    model: str = MODEL,
    home: str = HOME,
    tracking_uri: str = TRACKING,
    ledger_url: str = LEDGER,
    config: Path = CONFIG_OPT,
    as_json: bool = JSON,
) -> None:
    """Every change of the champion: versions, action, reason, actor, time, metrics."""
    stores = resolve_stores(home, tracking_uri, ledger_url, config, as_json)
    from base.environment import quiet_libraries

    quiet_libraries()
    notes = _reconcile_first(stores, model, as_json, home)
    from registry.ledger import champion_stack, open_ledger
    from registry.promotion import history as ledger_history
    from registry.releases import list_releases
    from registry.verdicts import describe_guards

    entries = ledger_history(stores, model)
    stack = champion_stack([e for e in entries if e.status == "applied"])
    data = {
        "model": model,
        "champion": _registry_champion(stores, model, bool(entries), as_json),
        "ledger_champion": stack[-1] if stack else None,
        "champions": stack,
        "entries": [e.to_dict() for e in entries],
        "reconciled": notes,
        "releases": [r.to_dict() for r in list_releases(open_ledger(stores.ledger_url), model)],
        **describe_guards(open_ledger(stores.ledger_url), model),
    }
    emit(data, as_json, render_history)


def _registry_champion(stores: "Stores", model: str, has_history: bool, as_json: bool) -> str | None:
    """MLflow's champion, to show beside the ledger's; unknown model is an error without history."""
    from registry.champion import read_champion
    from registry.promotion_types import UnknownModel
    from registry.store import client_for

    try:
        return read_champion(client_for(stores.tracking_uri), model)
    except UnknownModel as err:
        if not has_history:
            raise typer.Exit(int(report_error(err, as_json, model=model))) from None
        return None


def register(app: typer.Typer) -> None:
    """Attach ``rollback``, ``promote`` and ``history`` to the main app."""
    app.command()(rollback)
    app.command()(release)
    app.command()(promote)
    app.command()(approve)
    app.command()(reject)
    app.command()(history)
