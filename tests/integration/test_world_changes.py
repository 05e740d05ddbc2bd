"""The world changes and Retrain follows: a shifted batch reaches drift and the gate, a broken one does not.

The suite is the one ``suite init`` proposes, used unchanged. After month 3 the problem
changes: ``x2`` moves from [0, 10] to [15, 35] (beyond everything the reference saw, yet
plausible) and its effect on the label reverses. The champion is left behind; a retrain on
the new month learns the new regime and the gate promotes it. The same column in the wrong
unit (x1000) is still quarantined.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from base.settings import load_config


def new_regime(month: int, rows: int = 400, seed: int = 5) -> pd.DataFrame:
    """x2 now lies in [15, 35] and pushes the label the other way."""
    rng = np.random.default_rng(seed * 100 + month)
    start = pd.Timestamp(f"2024-{month:02d}-01", tz="UTC")
    ts = start + pd.to_timedelta(rng.integers(0, 27 * 24, rows), unit="h")
    x1 = rng.normal(0, 1, rows)
    x2 = rng.uniform(15, 35, rows)
    colour = rng.choice(["red", "green", "blue"], rows)
    logit = 1.0 * x1 - 0.4 * (x2 - 25) + np.where(colour == "red", 1.0, -0.5)
    y = (rng.uniform(size=rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {"ts": ts.strftime("%Y-%m-%dT%H:%M:%SZ"), "x1": x1.round(4), "x2": x2.round(4), "colour": colour, "label": y}
    )


@pytest.fixture
def regime(workspace, synth, tmp_path) -> Path:
    """A champion of the old regime, trained on the last month before its holdout."""
    config = synth.write_config(tmp_path, window={"train_days": 31})
    assert synth.run_flow(config)["status"] == "promoted"
    return config


@pytest.mark.integration
def test_a_shifted_regime_is_checked_for_drift_retrained_on_and_promoted(regime, synth, tmp_path):
    from monitoring.check import run_drift_check

    config = load_config(regime)
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    april = new_regime(4)
    april.to_csv(incoming / "m04.csv", index=False)

    check = run_drift_check(config, incoming / "m04.csv")

    assert check.status == "signal" and "drift" in check.signals, check.summary()
    assert check.validation.success and check.validation.failures == []
    [warning] = [w for w in check.validation.warnings if w.column == "x2"]
    assert warning.expectation == "expect_column_values_to_be_between" and warning.unexpected_percent > 20
    assert "x2" in check.drift.drifted_columns

    for month in (4, 5):
        new_regime(month).to_csv(tmp_path / "batches" / f"m{month:02d}.csv", index=False)
    outcome = synth.run_flow(regime, trigger="drift")

    assert outcome["status"] == "promoted", outcome
    decision = outcome["decision"]
    assert decision["candidate_score"] > decision["champion_score"] + 0.2  # the old champion reversed on x2
    assert outcome["version"] == "2"
    assert outcome["validation"][-1]["warnings"], "the shift is reported, not silent"

    slipped = new_regime(6).assign(x2=lambda f: f["x2"] * 1000)
    slipped.to_csv(tmp_path / "batches" / "m06.csv", index=False)
    broken = synth.run_flow(regime)

    assert broken["status"] == "data_invalid", broken
    assert (Path(config.quarantine_dir) / "m06.csv").is_file()
    assert broken.get("version") is None


@pytest.mark.integration
def test_a_new_category_passes_with_a_warning_and_a_garbled_column_is_stopped(regime, synth, tmp_path):
    from monitoring.check import run_drift_check

    config = load_config(regime)
    season = synth.make_month(4, rows=600)
    season.loc[season.index[:240], "colour"] = "purple"  # 40 % of rows: a colour first seen this season
    season.to_csv(tmp_path / "season.csv", index=False)

    check = run_drift_check(config, tmp_path / "season.csv")

    assert check.status in ("ok", "signal") and check.validation.success, check.summary()
    [warning] = check.validation.warnings
    assert (warning.expectation, warning.column) == ("expect_column_values_to_be_in_set", "colour")
    assert warning.unexpected_percent == pytest.approx(40.0)
    assert "colour" in check.drift.drifted_columns

    garbled = synth.make_month(4, rows=600)
    garbled["colour"] = [f"{c[::-1]}\u00c3\u00a9" for c in garbled["colour"]]
    garbled.to_csv(tmp_path / "batches" / "m04.csv", index=False)
    outcome = synth.run_flow(regime)

    assert outcome["status"] == "data_invalid", outcome
    report = outcome["validation"][-1]
    assert [(f["expectation"], f["column"]) for f in report["failures"]] == [
        ("expect_column_values_to_be_in_set", "colour")
    ]
