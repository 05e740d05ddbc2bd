"""Run ``retrain_flow`` from the CLI and turn its result into output and an exit code.

The flow stays the single path for a retrain: the CLI, the demo and a deployment all run
the same flow; only how the result is shown differs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from base.outcome import RunOutcome
from base.vocabulary import RunStatus, Trigger
from retrain.output import console, emit

if TYPE_CHECKING:
    from pathlib import Path

    from base.settings import ModelConfig


def run_retrain(
    config: "ModelConfig",
    trigger: str = "manual",
    reason: str = "",
    as_json: bool = False,
    quiet: bool = False,
    wait_seconds: float | None = None,
    override: str = "",
    report: "Path | None" = None,
) -> RunOutcome:
    """Run the flow once; data errors (too few rows, unreadable files) become ``data_invalid``."""
    from base.environment import quiet_libraries

    connect_prefect(config.home, quiet=quiet or as_json, as_json=as_json)
    quiet_libraries()
    from flows.retrain import retrain_flow
    from training.data import DataError

    try:
        outcome = retrain_flow(
            config_path=str(config.config_path),
            trigger=Trigger(trigger),
            reason=reason,
            wait_seconds=wait_seconds,
            override=override,
        )
    except DataError as err:
        outcome = RunOutcome(
            model=config.name,
            status=RunStatus.DATA_INVALID,
            trigger=Trigger(trigger),
            message=f"{err}; nothing registered",
        )
    return publish(outcome, as_json, quiet, report)


def run_dry(
    config: "ModelConfig",
    trigger: str = "manual",
    as_json: bool = False,
    override: str = "",
    report: "Path | None" = None,
) -> RunOutcome:
    """The dry run: no Prefect server, no lease, nothing stored; the same output as a run."""
    from base.environment import quiet_libraries

    quiet_libraries()
    from monitoring.dry_run import dry_run
    from training.data import DataError

    try:
        outcome = dry_run(config, Trigger(trigger), override=override)
    except DataError as err:
        outcome = RunOutcome(
            model=config.name,
            status=RunStatus.DATA_INVALID,
            trigger=Trigger(trigger),
            dry_run=True,
            message=f"{err}; a real run would register nothing",
        )
    return publish(outcome, as_json, False, report)


def publish(outcome: RunOutcome, as_json: bool, quiet: bool, report: "Path | None") -> RunOutcome:
    """Write the Markdown report (its path goes into the JSON), then print the outcome."""
    if report is not None:
        from retrain.report import run_markdown, write_report

        outcome.reports.append(write_report(report, run_markdown(outcome.to_dict())))
    if not quiet:
        emit(outcome.to_dict(), as_json, lambda _: render_outcome(outcome))
    return outcome


def connect_prefect(home: "Path", quiet: bool = False, as_json: bool = False) -> str | None:
    """Prepare Prefect for this process; a server that cannot start is one line and exit 1."""
    from base.exitcodes import Exit
    from retrain.output import fail
    from retrain.processes.home_record import ServerError
    from retrain.runtime import prepare_prefect

    say = None if as_json else (lambda line: console(stderr=True).print(line, markup=False, soft_wrap=True))
    try:
        return prepare_prefect(home, quiet=quiet, say=say)
    except ServerError as err:
        raise fail(str(err), Exit.ERROR, as_json) from None


def render_outcome(outcome: RunOutcome) -> None:
    out = console()
    colour = {
        "promoted": "green",
        "unchanged": "green",
        "rejected": "yellow",
        "superseded": "yellow",
        "withheld": "yellow",
        "pending_approval": "yellow",
    }.get(outcome.status, "red")
    dry = " (dry run)" if outcome.dry_run else ""
    out.print(f"[bold {colour}]{outcome.status.upper()}[/]{dry} {outcome.model}: {outcome.message}")
    for note in outcome.notes:
        out.print(f"  note: {note}")
    if outcome.search and outcome.search.get("top"):
        s, best = outcome.search, outcome.search["top"][0]
        out.print(
            f"  search: winner {best['label']} (cv {s['metric']} {best['mean_score']:.4f}; "
            f"{s['completed']} of {s['trials']} trials on {s['workers']} worker(s), {s['seconds']:.0f} s)"
        )
    d = outcome.decision.to_dict() if outcome.decision else {}
    for reason in d.get("reasons", []):
        out.print(f"  - {reason}")
    for path in outcome.quarantined:
        out.print(f"  quarantined: {path}")
    for report in outcome.validation:
        for f in report.get("warnings") or []:
            out.print(
                f"  [yellow]warning[/] {report.get('batch')}: {f.get('expectation')} ({f.get('column')}): "
                f"{f.get('details')}"
            )
        if not report.get("success"):
            out.print(f"  [red]{report.get('batch')}[/]: {report.get('error') or ''}")
            for f in report.get("failures", [])[:10]:
                out.print(f"    - {f.get('expectation')} ({f.get('column')}): {f.get('details')}")
    for path in outcome.reports:
        out.print(f"  report: {path}")
