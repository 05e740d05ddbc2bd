"""``retrain run --dry-run``: the gate's answer for a pull request, with every store left as it was."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from base.outcome import EXIT_BY_STATUS
from base.vocabulary import RunStatus
from retrain.cli import app


def fingerprint_tree(root: Path) -> dict[str, str]:
    """Path → sha256 of every file under ``root``: any write, new file or deletion shows up."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def dry(config: Path, report: Path) -> tuple[int, dict, str]:
    result = CliRunner().invoke(app, ["run", str(config), "--dry-run", "--json", "--report", str(report)])
    return result.exit_code, json.loads(result.stdout), report.read_text()


@pytest.mark.integration
def test_dry_run_stores_nothing_and_exits_as_the_real_run(workspace, synth, tmp_path, tmp_path_factory):
    assert synth.run_flow(workspace)["status"] == "promoted"
    synth.make_month(4).to_csv(tmp_path / "batches" / "m04.csv", index=False)
    report = tmp_path_factory.mktemp("reports") / "gate.md"
    before = fingerprint_tree(tmp_path)

    code, outcome, _ = dry(workspace, report)

    assert fingerprint_tree(tmp_path) == before  # registry DB, artifacts, ledger, intake records, batches
    assert outcome["dry_run"] is True and outcome["reports"] == [str(report)]
    assert outcome["decision"]["champion_version"] == "1"
    real = synth.run_flow(workspace)
    assert code == int(EXIT_BY_STATUS[RunStatus(real["status"])]), (outcome, real)
    assert outcome["status"] == real["status"]
    assert outcome["decision"]["candidate_metrics"] == real["decision"]["candidate_metrics"]


@pytest.mark.integration
def test_reports_for_promoted_rejected_and_invalid(workspace, synth, tmp_path, tmp_path_factory):
    reports = tmp_path_factory.mktemp("reports")
    code, _, text = dry(workspace, reports / "first.md")
    assert code == 0
    assert "**PROMOTED** (dry run" in text and "no champion" in text and "| **roc_auc** |" in text
    assert "✅ pass: output checks" in text and "| m03.csv | 300 | ✅" in text
    assert "- train: 2024-01" in text and "holdout: 2024-03" in text

    assert synth.run_flow(workspace)["status"] == "promoted"
    crippled = synth.write_config(
        tmp_path, estimator={"class_path": "sklearn.dummy.DummyClassifier", "params": {"strategy": "prior"}}
    )
    code, _, text = dry(crippled, reports / "rejected.md")
    assert code == 4
    assert "**REJECTED**" in text and "| champion v1 |" in text and "Paired bootstrap" in text
    assert "❌ fail:" in text

    bad = synth.make_month(4).drop(columns=["x1"])
    bad.to_csv(tmp_path / "batches" / "m04.csv", index=False)
    code, outcome, text = dry(workspace, reports / "invalid.md")
    assert code == 3 and outcome["quarantined"] == []
    assert (tmp_path / "batches" / "m04.csv").is_file()  # reported, not moved
    assert "**DATA_INVALID**" in text and "| m04.csv |" in text and "x1" in text
    assert "would quarantine" in text and "### Metrics" not in text


@pytest.mark.integration
@pytest.mark.parametrize(("approval", "first"), [("auto", "promoted"), ("manual", "pending_approval")])
def test_dry_run_and_flow_end_alike_after_the_gate(workspace, synth, tmp_path, tmp_path_factory, approval, first):
    """Approval mode and a person's hold: the dry run reports the step the flow then takes."""
    from base.settings import load_config
    from registry.ledger import open_ledger
    from registry.verdicts import add_hold

    config = synth.write_config(tmp_path, approval=approval, gate={"max_regression": 1.0})
    reports = tmp_path_factory.mktemp("reports")
    _, outcome, _ = dry(config, reports / "first.md")
    assert outcome["status"] == synth.run_flow(config)["status"] == first

    ledger = open_ledger(load_config(config).ledger_url)
    with ledger.lock("synth"):
        add_hold(ledger, "synth", "incident review", "oncall")
    synth.make_month(4).to_csv(tmp_path / "batches" / "m04.csv", index=False)
    _, outcome, _ = dry(config, reports / "held.md")
    real = synth.run_flow(config)
    assert outcome["status"] == real["status"] == "withheld", (outcome["message"], real["message"])
    assert "incident review" in outcome["message"] and "incident review" in real["message"]
