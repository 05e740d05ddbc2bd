"""Drift verdicts are calibrated for batch size: few false alarms on small in-distribution
batches, real shifts found on large ones, and no verdict on a batch too small for one.

Statistical tests with fixed seeds, so each run sees the same data and the same verdicts.
Recall is tested at 100k rows per side rather than 1M: above ``drift.sample_rows`` (20,000)
the check compares the same 20,000-row samples whatever the batch size, so 100k and 1M rows
are the same test for it, and 100k frames build ten times faster. ``bench/drift_calibration.py``
measures the 1M case over more seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from base.settings import ModelConfig
from monitoring.drift import detect_drift
from monitoring.drift_columns import count_categories
from monitoring.drift_evidently import measure_distance
from monitoring.drift_stats import jensenshannon_of_counts

SHARES = np.array([0.4, 0.25, 0.15, 0.1, 0.06, 0.04])
LABELS = np.array(["a", "b", "c", "d", "e", "f"])


NO_FLOOR = {"numerical": 0.0, "categorical": 0.0, "prediction": 0.0}  # significance alone: the null's calibration


def make_config(**drift) -> ModelConfig:
    drift.setdefault("min_effect", NO_FLOOR)
    return ModelConfig.model_validate(
        {
            "name": "m",
            "task": "binary",
            "data": {"path": "b/*.csv", "timestamp_column": "ts", "target_column": "y"},
            "validation": {"suite": "m.suite.json"},
            "drift": drift,
        }
    )


def make_frame(n: int, seed: int, mean_shift: float = 0.0, share_move: float = 0.0) -> pd.DataFrame:
    """A normal, a skewed, an integer and a six-category column; the shifts move the first
    column's mean (in standard deviations) and ``share_move`` of the top category's share."""
    rng = np.random.default_rng(seed)
    shares = SHARES.copy()
    shares[1:] *= (shares[1:].sum() + share_move) / shares[1:].sum()
    shares[0] -= share_move
    return pd.DataFrame(
        {
            "normal": rng.normal(mean_shift, 1.0, n),
            "skewed": rng.lognormal(0.0, 0.7, n),
            "count": rng.integers(0, 50, n),
            "colour": rng.choice(LABELS, n, p=shares),
        }
    )


def count_false_alarms(
    rows: int, seeds: range, reference_rows: int | None = None, drift_share: float = 0.25
) -> tuple[int, int, int]:
    """(flagged columns, judged columns, drifted datasets) over in-distribution pairs."""
    flagged = judged = datasets = 0
    config = make_config(drift_share=drift_share)
    for seed in seeds:
        reference = make_frame(reference_rows or rows, seed=1_000 + seed)
        report = detect_drift(reference, make_frame(rows, seed=2_000 + seed), config, features=list(reference.columns))
        flagged += len(report.drifted_columns)
        judged += len(report.judged_columns)
        datasets += report.drifted
    return flagged, judged, datasets


def test_small_in_distribution_batches_rarely_raise_false_alarms():
    flagged, judged, datasets = count_false_alarms(200, range(50))
    assert judged == 200
    assert flagged / judged <= 0.03  # alpha is 0.01 per column
    assert datasets <= 3  # 6 % of 50; one drifted column is a drifted dataset here


def test_hundred_row_batches_of_the_training_distribution_are_not_flagged():
    """The case that flagged 10 of 20 batches with a fixed 0.1 threshold: 100 rows against a
    5,000-row reference snapshot, the default dataset rule (half the columns)."""
    flagged, judged, datasets = count_false_alarms(100, range(40), reference_rows=5_000, drift_share=0.5)
    assert judged == 160 and flagged / judged <= 0.04 and datasets <= 1


@pytest.mark.parametrize("seed", range(5))
def test_large_batches_reveal_a_tenth_of_a_std_shift_and_a_five_point_share_move(seed):
    """The null's power, without an effect floor (``test_drift_effect.py`` covers the floor)."""
    reference = make_frame(100_000, seed=3_000 + seed)
    batch = make_frame(100_000, seed=4_000 + seed, mean_shift=0.1, share_move=0.05)
    report = detect_drift(reference, batch, make_config(), features=list(reference.columns))
    assert set(report.drifted_columns) == {"normal", "colour"}
    assert report.current_sampled_rows == report.reference_sampled_rows == 20_000


def test_the_same_shift_is_within_noise_on_a_small_batch():
    reference = make_frame(200, seed=5)
    batch = make_frame(200, seed=6, mean_shift=0.1, share_move=0.05)
    report = detect_drift(reference, batch, make_config(), features=list(reference.columns))
    assert report.column("normal").noise > 0.2  # twice the shift: 200 rows cannot tell it from noise
    assert report.column("colour").noise > 0.1 and not report.column("colour").drifted


def test_tiny_batch_gets_no_verdict():
    report = detect_drift(make_frame(5_000, seed=7), make_frame(20, seed=8, mean_shift=3.0), make_config())
    assert report.status == "insufficient_data"
    assert not report.drifted and report.drifted_columns == ()
    assert {c.status for c in report.columns} == {"insufficient_data"}
    assert {c.score for c in report.columns} == {None}
    assert report.summary().startswith("too small to tell")
    assert report.to_dict()["status"] == "insufficient_data"


def test_a_column_with_too_few_values_is_left_out_of_the_share():
    batch = make_frame(500, seed=9, mean_shift=2.0)
    batch.loc[10:, "skewed"] = np.nan  # ten values left
    report = detect_drift(make_frame(5_000, seed=10), batch, make_config(drift_share=0.3))
    assert report.column("skewed").status == "insufficient_data"
    assert [c.column for c in report.judged_columns] == ["normal", "count", "colour"]
    assert report.drifted_columns == ("normal",) and report.share == pytest.approx(1 / 3)
    assert report.status == "drift" and "skewed" in report.warnings[0]


def test_the_null_measures_the_same_distance_as_evidently():
    ref, cur = make_frame(3_000, seed=11)["colour"], make_frame(800, seed=12, share_move=0.1)["colour"]
    ref_counts, cur_counts = count_categories(ref, cur)
    ours = jensenshannon_of_counts(ref_counts[None, :], cur_counts[None, :])[0]
    assert ours == pytest.approx(measure_distance(ref, cur, "categorical", "jensenshannon"), rel=1e-9)
