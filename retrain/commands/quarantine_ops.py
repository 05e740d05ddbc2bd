"""``retrain quarantine list|show|release``: read the quarantine and let a batch back in, in one step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from retrain.commands.options import CONFIG_OPT, HOME, JSON, MODEL, load_or_exit
from retrain.output import console, emit, fail

quarantine_app = typer.Typer(help="Batches validation set aside: read them, release them.", no_args_is_help=True)
BATCH = typer.Argument(..., help="Quarantined batch file name, as `retrain quarantine list` shows it.")


def quarantine_folder(model: str, home: str | None, config: Path | None, as_json: bool) -> Path:
    """The model's quarantine folder, from the config's home when given, else ``--home``/``RETRAIN_HOME``.

    Without a config, a model the home has never validated a batch of is unknown (exit 5):
    a misspelt name must not read as "nothing in quarantine".
    """
    from base.exitcodes import Exit
    from base.paths import home_path
    from base.settings import resolve_home

    if config is not None:
        cfg = load_or_exit(config, as_json)
        if cfg.name != model:
            raise fail(f"{config} configures model {cfg.name!r}, not {model!r}", Exit.USAGE, as_json)
        return cfg.quarantine_dir
    root = resolve_home(home)
    folder = home_path(root, "quarantine", model)
    if not folder.is_dir() and not home_path(root, "validated", model).is_dir():
        known = sorted({p.name for kind in ("quarantine", "validated") for p in (root / kind).glob("*") if p.is_dir()})
        where = f"models there: {', '.join(known)}" if known else "no model has validated a batch there"
        raise fail(f"no model named {model!r} in the home {root} ({where})", Exit.UNKNOWN_MODEL, as_json, model=model)
    return folder


@quarantine_app.command("list")
def list_batches(model: str = MODEL, home: str = HOME, config: Path = CONFIG_OPT, as_json: bool = JSON) -> None:
    """Every batch of the model that validation set aside: when, rows, what failed."""
    from monitoring.quarantine import list_quarantined

    folder = quarantine_folder(model, home, config, as_json)
    items = [q.to_dict() for q in list_quarantined(folder)]
    emit({"model": model, "folder": str(folder), "batches": items}, as_json, render_list)


def render_list(data: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    out = console()
    if not data["batches"]:
        out.print(f"{data['model']}: nothing in quarantine ({data['folder']})")
        return
    table = Table("batch", "quarantined (UTC)", "rows", "what failed", title=f"{data['model']}: quarantine")
    for item in data["batches"]:
        table.add_row(escape(item["batch"]), item["quarantined_at"][:19], str(item["rows"]), escape(item["summary"]))
    out.print(table)
    out.print(f"release one: retrain quarantine release {data['model']} BATCH --reason '...' [--widen] --config CONFIG")


@quarantine_app.command("show")
def show(
    model: str = MODEL, batch: str = BATCH, home: str = HOME, config: Path = CONFIG_OPT, as_json: bool = JSON
) -> None:
    """One quarantined batch: each failed rule with its column and rows, and where the file came from."""
    from monitoring.quarantine import find_quarantined

    item = find_quarantined(quarantine_folder(model, home, config, as_json), model, batch)
    emit(item.to_dict(), as_json, render_show)


def render_show(data: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    out = console()
    out.print(f"[bold]{escape(data['batch'])}[/]: {escape(data['summary'])}")
    out.print(f"  file: {data['path']}\n  came from: {data['original_path'] or '-'}\n  at: {data['quarantined_at']}")
    report = data["report"]
    table = Table("severity", "expectation", "column", "rows", "% rows", "details")
    for level, key in (("error", "failures"), ("warn", "warnings")):
        for f in report[key]:
            pct = "" if f["unexpected_percent"] is None else f"{f['unexpected_percent']:.2f}"
            table.add_row(
                level,
                f["expectation"],
                str(f["column"] or ""),
                str(f["unexpected_count"] or ""),
                pct,
                escape(str(f["details"])),
            )
    if report.get("error"):
        out.print(f"  could not be read: {escape(report['error'])}")
    out.print(table)


@quarantine_app.command("release")
def release(
    model: str = MODEL,
    batch: str = BATCH,
    reason: str = typer.Option(..., "--reason", help="Why the batch may be trained on; recorded in the history."),
    widen: bool = typer.Option(False, "--widen", help="Also widen the suite to admit exactly what failed."),
    config: Path = typer.Option(..., "--config", help="The model's config (its suite, data folder and stores)."),
    as_json: bool = JSON,
) -> None:
    """Put a quarantined batch back for the next run, recorded with who and why (optionally widening the suite)."""
    from base.environment import actor, quiet_libraries
    from base.exitcodes import Exit
    from monitoring.quarantine import release_batch

    cfg = load_or_exit(config, as_json)
    if cfg.name != model:
        raise fail(f"{config} configures model {cfg.name!r}, not {model!r}", Exit.USAGE, as_json)
    quiet_libraries()
    result = release_batch(cfg, batch, reason, actor(), widen)
    emit(result.to_dict(), as_json, render_release)


def render_release(data: dict[str, Any]) -> None:
    from rich.markup import escape

    out = console()
    out.print(f"[green]released[/] {escape(data['batch'])} → {escape(data['restored_to'])}; the next run trains on it")
    widening = data["widening"]
    if widening:
        for change in widening["changes"]:
            out.print(f"  suite v{widening['version']}: {escape(change)}")
        for missed in widening["not_widened"]:
            out.print(f"  [yellow]{escape(missed)}[/]: accepted for this batch's content only")
        if widening["previous"]:
            out.print(f"  previous suite kept as {widening['previous']}")
    out.print(f"  recorded: {escape(data['release']['actor'] or '-')}: {escape(data['release']['reason'])}")


def render_releases(releases: list[dict[str, Any]]) -> None:
    """Batches people let back in, for ``retrain history``."""
    from rich.markup import escape
    from rich.table import Table

    if not releases:
        return
    table = Table("time (UTC)", "batch", "actor", "reason", "suite", "had failed", title="released from quarantine")
    for r in releases:
        suite = f"widened to v{r['suite_version']}" if r["widened"] else "as it was"
        table.add_row(
            r["created_at"][:19].replace("T", " "),
            escape(r["batch"]),
            escape(r["actor"] or ""),
            escape(r["reason"]),
            suite,
            escape(", ".join(r["failures"])[:80]),
        )
    console().print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(quarantine_app, name="quarantine")
