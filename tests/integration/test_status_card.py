"""``retrain status MODEL`` reads like a model card; ``--all`` still shows every tag."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

pytestmark = pytest.mark.integration


def test_the_card_names_the_champion_how_it_got_there_the_challenger_and_the_block(workspace, synth, monkeypatch):
    from base.settings import load_config
    from retrain.cli import app

    assert synth.run_flow(workspace)["status"] == "promoted"
    synth.make_month(4).to_csv(workspace.parent / "batches" / "m04.csv", index=False)
    assert synth.run_flow(workspace)["version"] == "2"
    crippled = synth.write_config(
        workspace.parent, estimator={"class_path": "sklearn.dummy.DummyClassifier", "params": {"strategy": "prior"}}
    )
    synth.make_month(5).to_csv(workspace.parent / "batches" / "m05.csv", index=False)
    assert synth.run_flow(crippled)["status"] == "rejected"
    home = str(load_config(workspace).home)
    runner = CliRunner()
    promoted_second = runner.invoke(app, ["promote", "synth", "2", "--reason", "try", "--home", home])
    assert promoted_second.exit_code == 0, promoted_second.output
    assert runner.invoke(app, ["rollback", "synth", "--reason", "worse", "--home", home]).exit_code == 0
    monkeypatch.setenv("COLUMNS", "100")

    card = runner.invoke(app, ["status", "synth", "--home", home])

    assert card.exit_code == 0, card.output
    lines = card.stdout.splitlines()
    assert len(lines) < 40 and all(len(line) <= 100 for line in lines), card.stdout
    text = card.stdout
    assert "champion  v1 since" in text and "(rollback, trigger manual)" in text
    assert "gate      promote: roc_auc" in text and "train 2024-01-01" in text
    assert "challenger v3 (rejected)" in text and "why       fail: floor" in text
    assert "blocked v2" in text and "worse" in text
    assert "last drift check: -" in text and "retrain status synth --all" in text
    assert "gate.reasons" not in text  # the raw tags wait behind --all

    every = runner.invoke(app, ["status", "synth", "--home", home, "--all"])
    assert every.exit_code == 0 and "gate.reasons" in every.stdout and "roc_auc" in every.stdout
    assert "metric.roc_auc" not in every.stdout  # each metric once: on the version's run, not again as a tag
