"""Serving commands: ``score``, ``review list|export|answer`` and ``feedback``.

``score`` and ``feedback`` run without Prefect, like ``drift``: ``feedback`` exits 9 when the
champion degraded on live labels (a CI gate), and with ``--emit`` also sends the
performance event to the Prefect server so the retrain deployment's trigger starts a retrain.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from base.exitcodes import Exit
from retrain.commands.batch_source import BATCH_HELP, load_with_source
from retrain.commands.options import HOME, JSON, MODEL, SERVING, load_with_batch
from retrain.output import console, emit, fail

review_app = typer.Typer(help="Rows the model was unsure of, waiting for a person's label.", no_args_is_help=True)
OUT = typer.Option(..., "--out", help="Where to write the rows: .parquet (or .pq) for Parquet, else CSV.")


def score(
    config: Path = typer.Argument(..., help="Model config (YAML)."),
    batch: str = typer.Argument(..., help="Batch to score: " + BATCH_HELP),
    out: Path = OUT,
    version: str = typer.Option(None, "--version", help="Score with this version instead of the champion."),
    as_json: bool = JSON,
) -> None:
    """Score a batch: validate it, predict, check the outputs, log every row, queue the unsure ones.

    Exits 3 (nothing written, nothing logged) when the batch or the model's outputs fail a check.
    """
    cfg, path = load_with_source(config, batch, as_json)
    from serving.scoring import score_batch, write_rows

    result = score_batch(cfg, path, version)
    write_rows(result.rows, out)
    data = {**result.to_dict(), "out": str(out)}
    emit(data, as_json, lambda d: console().print(f"[bold green]SCORED[/] {result.summary()}\n  rows: {d['out']}"))


def feedback(
    config: Path = typer.Argument(..., help="Model config (YAML)."),
    labels: Path = typer.Argument(..., help="Labels file (CSV or Parquet): id and label columns."),
    emit_events: bool = typer.Option(
        False, "--emit", help="Also send the performance event to the Prefect server (PREFECT_API_URL)."
    ),
    as_json: bool = JSON,
) -> None:
    """Join late labels and review answers to the prediction log; log live figures to MLflow; exit 9
    when the champion's live metric fell past drift.performance_tolerance."""
    cfg = load_with_batch(config, labels, as_json)
    from serving.feedback import run_feedback
    from serving.feedback_log import log_feedback

    result = run_feedback(cfg, labels)
    run_id = log_feedback(cfg, result)
    events: list[str] = []
    if emit_events and result.degraded:
        from flows.feedback import emit_feedback

        events = emit_feedback(result, run_id)
    shadow = None
    if cfg.gate.promote_after_shadow is not None:
        from flows.feedback import settle_shadow

        shadow = settle_shadow(cfg, result, announce=emit_events)
        events += [shadow["event"]] if shadow and shadow["event"] else []
    data = {**result.to_dict(), "mlflow_run_id": run_id, "events": events, "shadow_verdict": shadow}
    emit(data, as_json, lambda _: render_feedback(result, shadow))
    raise typer.Exit(int(Exit.DRIFT if result.signals else Exit.OK))


def render_feedback(result: Any, shadow: dict | None = None) -> None:
    from rich.table import Table

    out = console()
    out.print(f"[bold {'yellow' if result.signals else 'green'}]FEEDBACK[/] {result.summary()}")
    if shadow is not None:
        out.print(f"shadow verdict: {shadow['verdict']['action']}: {shadow['verdict']['reason']}")
    table = Table("day", "version", "rows", "labelled", result.metric, "accuracy", "review rate", "auto accuracy")
    show = lambda v: "-" if v is None else f"{v:.4f}"  # noqa: E731
    for d in result.days:
        table.add_row(
            d.day,
            d.version,
            str(d.rows),
            str(d.labelled),
            show(d.metric),
            show(d.accuracy),
            show(d.review_rate),
            show(d.auto_accuracy),
        )
    out.print(table)


def _home(home: str | None) -> Path:
    from base.settings import resolve_home

    return resolve_home(home)


@review_app.command("list")
def review_list(
    model: str = MODEL,
    all_rows: bool = typer.Option(False, "--all", help="Answered rows too."),
    home: str = HOME,
    serving_url: str = SERVING,
    as_json: bool = JSON,
) -> None:
    """Queued rows of MODEL, least confident first."""
    from serving.review_queue import list_queue

    rows = list_queue(_home(home), model, pending_only=not all_rows, url=serving_url)
    emit(rows.to_dict(orient="records"), as_json, lambda data: render_queue(model, data))


def render_queue(model: str, data: list[dict]) -> None:
    from rich.table import Table

    table = Table("id", "version", "prediction", "confidence", "label", "features", title=f"{model}: review queue")
    for row in data:
        table.add_row(
            row["id"],
            row["version"],
            row["prediction"],
            f"{row['confidence']:.4f}",
            row.get("label") or "-",
            row["features"][:80],
        )
    console().print(table)


@review_app.command("export")
def review_export(
    model: str = MODEL, out: Path = OUT, home: str = HOME, serving_url: str = SERVING, as_json: bool = JSON
) -> None:
    """Write MODEL's pending rows (features as columns) to a file a reviewer fills in (column ``label``)."""
    import json

    import pandas as pd

    from serving.review_queue import list_queue
    from serving.scoring import write_rows

    rows = list_queue(_home(home), model, url=serving_url)
    features = pd.DataFrame([json.loads(f) for f in rows["features"]], index=rows.index)
    sheet = pd.concat([rows[["id", "prediction", "confidence"]], features], axis=1).assign(label=None)
    write_rows(sheet, out)
    emit(
        {"model": model, "rows": len(sheet), "out": str(out)},
        as_json,
        lambda d: console().print(
            f"{d['rows']} rows to review written to {d['out']}; answer with `retrain review answer {model} --file`"
        ),
    )


@review_app.command("answer")
def review_answer(
    model: str = MODEL,
    row_id: str = typer.Argument(None, metavar="ID", help="Queued row id."),
    label: str = typer.Argument(None, help="The right label for that row."),
    answers_file: Path = typer.Option(None, "--file", help="CSV or Parquet with id and label columns (an export)."),
    home: str = HOME,
    serving_url: str = SERVING,
    as_json: bool = JSON,
) -> None:
    """Record a reviewer's label for a queued row (or every labelled row of --file); the reviewer is you."""
    from base.environment import actor
    from serving.review_queue import answer

    pairs = _answer_pairs(row_id, label, answers_file, as_json)
    root, who = _home(home), actor()
    problems = check_answers(root, model, pairs, answers_file, serving_url)
    if problems:
        raise fail(problems, Exit.USAGE, as_json)
    done = [answer(root, model, rid, lab, who, url=serving_url).__dict__ for rid, lab in pairs]
    emit(
        {"model": model, "answers": done},
        as_json,
        lambda d: console().print(f"{len(d['answers'])} answer(s) recorded for {model} by {who}"),
    )


def check_answers(
    root: Path, model: str, pairs: list[tuple[str, str]], sheet: Path | None, url: str | None = None
) -> str | None:
    """Every answer names a queued row and a label the row's model version can have; else why not."""
    from base.settings import store_urls
    from serving.review_answers import check_answers as check

    where = (lambda i, rid: f"{sheet} line {i + 2} (id {rid})") if sheet else None
    return check(root, model, pairs, store_urls(str(root))[0], where, url)


def _answer_pairs(row_id: str | None, label: str | None, path: Path | None, as_json: bool) -> list[tuple[str, str]]:
    if path is None:
        if row_id is None or label is None:
            raise fail("give ID and LABEL, or --file FILE", Exit.USAGE, as_json)
        return [(row_id, label)]
    import pandas as pd

    if not path.is_file():
        raise fail(f"{path}: no such answers file", Exit.USAGE, as_json)
    sheet = pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else pd.read_csv(path, dtype=str)
    if not {"id", "label"} <= set(sheet.columns):
        raise fail(f"{path}: expected columns id and label", Exit.USAGE, as_json)
    sheet = sheet[sheet["label"].notna() & (sheet["label"].astype(str) != "")]
    return list(zip(sheet["id"].astype(str), sheet["label"].astype(str), strict=True))


def register(app: typer.Typer) -> None:
    """Attach ``score``, ``feedback`` and the ``review`` group to the main app."""
    app.command()(score)
    app.command()(feedback)
    from retrain.commands import review_web_ops

    review_web_ops.register(review_app)
    app.add_typer(review_app, name="review")
