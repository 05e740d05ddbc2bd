"""``retrain backtest`` replays history through the real flows and decides as ``retrain run`` would."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from base.settings import load_config


def months_into(root, synth, months, flip_last=False):
    (root / "batches").mkdir(parents=True)
    for month in months:
        frame = synth.make_month(month, flip=flip_last and month == months[-1])
        frame.to_csv(root / "batches" / f"m{month:02d}.csv", index=False)


@pytest.mark.integration
def test_backtest_matches_step_by_step_runs(tmp_path, synth, monkeypatch, migrated_mlflow_db, mlflow_globals):
    from monitoring.validation import propose_suite, write_suite
    from retrain.backtest import run_backtest
    from retrain.backtest_report import plot_backtest

    for var in ("RETRAIN_HOME", "RETRAIN_TRACKING_URI", "RETRAIN_LEDGER_URL"):
        monkeypatch.delenv(var, raising=False)
    months = [1, 2, 3, 4]
    history = tmp_path / "history"
    months_into(history, synth, months, flip_last=True)  # the last month's labels flip: the champion fails
    config = load_config(synth.write_config(history))
    reference = pd.concat([synth.make_month(m) for m in (1, 2)], ignore_index=True)
    write_suite(propose_suite(reference, config), config.suite_path)
    scratch = tmp_path / "scratch"
    (scratch / "home").mkdir(parents=True)
    shutil.copy(migrated_mlflow_db, scratch / "home" / "mlflow.db")

    result = run_backtest(config, initial=2, schedule_days=0, scratch=scratch)

    # the same history, one `retrain run` per arrival, in a home of its own
    steps = tmp_path / "steps"
    (steps / "home").mkdir(parents=True)
    shutil.copy(migrated_mlflow_db, steps / "home" / "mlflow.db")
    step_config = synth.write_config(steps)
    shutil.copy(config.suite_path, load_config(step_config).suite_path)
    (steps / "batches").mkdir()
    runs = []
    for arrival in ([1, 2], [3], [4]):
        for month in arrival:
            shutil.copy(history / "batches" / f"m{month:02d}.csv", steps / "batches")
        runs.append(synth.run_flow(step_config))

    assert [s["decision"] for s in result.steps] == [r["status"] for r in runs]
    assert [s["champion_version"] for s in result.steps] == [r["champion_version"] for r in runs]
    assert result.steps[0]["decision"] == "promoted"
    first, _, last = result.steps
    assert first["next_batch"] == "m03.csv" and last["next_batch"] is None
    assert first["policy_next"] == first["never_next"] and first["always_next"] is not None
    totals = result.totals()
    assert totals["always_retrain"]["retrains"] == 3 and totals["never_retrain"]["retrains"] == 0
    assert totals["policy"]["retrains"] == 3
    assert totals["policy"]["promotions"] == sum(s["decision"] == "promoted" for s in result.steps)
    assert totals["policy"]["mean_next"] is not None
    assert not (history / "home").exists()  # the real home was never opened
    png = plot_backtest(result.to_dict(), tmp_path / "plot.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
