"""``retrain backtest CONFIG``: replay the model's history through the policy in a scratch home."""

from __future__ import annotations

from pathlib import Path

import typer

from retrain.commands.options import JSON, load_checked
from retrain.output import console, emit


def backtest(
    config: Path = typer.Argument(..., help="Model config (YAML)."),
    initial: int = typer.Option(3, "--initial", min=1, help="How many first batches train the first champion."),
    schedule_days: float = typer.Option(
        None,
        "--schedule-days",
        min=0,
        help="Retrain when this many days passed since the last one (default: schedule.interval_hours of the config).",
    ),
    quarantined: bool = typer.Option(
        True, "--quarantined/--no-quarantined", help="Replay quarantined batches too, where they arrived."
    ),
    plot: Path = typer.Option(None, "--plot", help="PNG to write (default: ./<model>-backtest.png)."),
    keep: bool = typer.Option(False, "--keep", help="Keep the scratch home (registry, ledger) for inspection."),
    as_json: bool = JSON,
) -> None:
    """Replay every batch in time order: validate → drift → retrain when triggered → gate → promote.

    Runs in a temporary home (the real one is never opened) and compares the policy, on
    each next batch, with never retraining and with always retraining and promoting.
    """
    cfg = load_checked(config, as_json)
    import os
    import shutil
    import tempfile

    from base.environment import quiet_libraries
    from retrain.runner import connect_prefect
    from retrain.runtime import SERVER_MODE_VARIABLE

    scratch = Path(tempfile.mkdtemp(prefix="retrain-backtest-"))
    # flow runs stay out of the real home too; a temporary server ends with this process
    os.environ.setdefault(SERVER_MODE_VARIABLE, "ephemeral")
    connect_prefect(scratch / "home", quiet=True, as_json=as_json)
    quiet_libraries()
    from retrain.backtest import run_backtest
    from retrain.backtest_report import plot_backtest, render_backtest

    out = console(stderr=as_json)
    try:
        result = run_backtest(
            cfg, initial=initial, schedule_days=schedule_days, quarantined=quarantined, scratch=scratch, out=out
        )
        result.plot = str(plot_backtest(result.to_dict(), plot or Path(f"{cfg.name}-backtest.png")).resolve())
    finally:
        if not keep:
            shutil.rmtree(scratch, ignore_errors=True)
    summary = result.to_dict() | {"scratch": str(scratch) if keep else None}
    emit(summary, as_json, lambda s: render_backtest(s, console()))


def register(app: typer.Typer) -> None:
    app.command()(backtest)
