"""The fleet table in Markdown: one line per model, the columns a person scans for trouble."""

from __future__ import annotations

from registry.fleet import FleetRow, fleet_markdown


def test_fleet_markdown_has_one_row_per_model_with_holds_and_warnings():
    rows = [
        FleetRow(
            "churn",
            "3",
            "4",
            5,
            "roc_auc",
            0.81234,
            {"version": "4", "when": "2026-01-02T03:04:05+00:00", "trigger": "drift", "outcome": "rejected"},
            {"when": "2026-01-02", "verdict": "drift"},
            "2026-01-05T00:00",
            hold=True,
            warnings=["ledger disagrees"],
        ),
        FleetRow("fraud", None, None, 0),
    ]
    lines = fleet_markdown(rows).splitlines()
    assert len(lines) == 4 and lines[0].startswith("| model | champion |")
    assert lines[2] == (
        "| churn | 3 | 4 | roc_auc=0.8123 | v4 2026-01-02T03:04:05+00:00 drift rejected | drift (2026-01-02) | "
        "2026-01-05T00:00 | on hold; ledger disagrees |"
    )
    assert lines[3] == "| fraud | - | - | - | - | - | - | - |"
