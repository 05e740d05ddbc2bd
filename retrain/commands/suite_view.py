"""How ``retrain suite check`` shows its replay: verdicts, failing rules, severity changes."""

from __future__ import annotations

from typing import Any

from retrain.output import console


def render_suite_check(result: Any) -> None:
    from rich.table import Table

    from monitoring.suite_check import verdict_rows

    out = console()
    table = Table(
        "batch",
        "rows",
        "verdict",
        "would quarantine it (error)",
        "reported only (warn)",
        title=f"suite {result.suite} replayed over {len(result.batches)} batch(es)",
    )
    for row in verdict_rows(result):
        colour = "green" if row["verdict"] == "passes" else "red"
        table.add_row(
            row["batch"], str(row["rows"]), f"[{colour}]{row['verdict']}[/]", row["errors"][:90], row["warnings"][:60]
        )
    out.print(table)
    failing = result.by_expectation()
    if failing:
        where = Table("expectation", "column", "severity", "fails on", "worst unexpected %", title="by expectation")
        for item in failing:
            worst = max((h["unexpected_percent"] or 0.0) for h in item["batches"])
            names = ", ".join(h["batch"] for h in item["batches"])
            where.add_row(item["expectation"], str(item["column"] or ""), item["severity"], names[:70], f"{worst:.2f}")
        out.print(where)
    out.print(f"{result.would_quarantine} of {len(result.batches)} batch(es) would be quarantined")
    render_severity_changes(result.severity_changes)


def render_severity_changes(changes: list[Any]) -> None:
    """Rules today's proposal would mark otherwise: an older suite stops shifted batches."""
    from rich.table import Table

    if not changes:
        return
    table = Table(
        "expectation", "column", "now", "proposed", "why", title="rules `suite init` would now propose otherwise"
    )
    for change in changes:
        table.add_row(change.expectation, str(change.column or ""), change.current, change.proposed, change.note[:80])
    out = console()
    out.print(table)
    out.print(
        "a shift (warn) is reported and left to the drift check and the gate; "
        "`retrain suite init CONFIG --overwrite` writes today's proposal"
    )
