"""A column drifts only when its shift is both significant and large enough to matter, and a
batch too small to see a shift that matters gets "too small to tell", never "no drift"."""

from __future__ import annotations

import pytest

from base.settings import EffectConfig, ModelConfig
from monitoring.drift import detect_drift
from tests.unit.monitoring.test_drift_calibration import NO_FLOOR, make_frame
from tests.unit.monitoring.test_drift_calibration import make_config as calibrated_config


def make_config(**drift) -> ModelConfig:
    """The calibration tests' config with the default effect floors (they turn the floors off)."""
    return calibrated_config(**{"min_effect": EffectConfig().model_dump(), **drift})


@pytest.fixture(scope="module")
def reference():
    return make_frame(20_000, seed=21)


def test_a_significant_but_tiny_shift_of_a_large_batch_is_not_drift(reference):
    batch = make_frame(35_000, seed=22, mean_shift=0.04, share_move=0.02)
    features = list(reference.columns)

    significant = detect_drift(reference, batch, make_config(min_effect=NO_FLOOR), features=features)
    report = detect_drift(reference, batch, make_config(), features=features)

    assert {"normal", "colour"} <= set(significant.drifted_columns)  # beyond noise at 35,000 rows
    assert report.status == "no_drift" and report.drifted_columns == ()
    for column in report.columns:
        assert column.floor == 0.1 and column.noise < column.floor and column.score < column.threshold


def test_a_large_shift_is_drift_even_on_a_small_batch(reference):
    report = detect_drift(
        reference, make_frame(200, seed=23, mean_shift=1.0), make_config(drift_share=0.25), features=["normal"]
    )
    assert report.status == "drift"
    normal = report.column("normal")
    assert normal.noise > normal.floor and normal.score > normal.noise  # small, and clear anyway


def test_a_quiet_batch_too_small_to_see_a_shift_that_matters_is_too_small_to_tell(reference):
    report = detect_drift(reference, make_frame(120, seed=24), make_config())
    numeric = [c for c in report.columns if c.method == "wasserstein"]
    assert numeric and all(c.status == "insufficient_data" and c.noise > c.floor for c in numeric)
    assert report.status == "insufficient_data" and not report.drifted
    assert report.summary().startswith("too small to tell")
    assert any("too small to tell" in w and "normal" in w for w in report.warnings)


def test_no_drift_needs_enough_judged_columns_to_rule_drift_out(reference):
    """At 200 rows only the category column can be judged: one of four cannot rule out a 50 % share."""
    small = detect_drift(reference, make_frame(200, seed=25), make_config(drift_share=0.5))
    assert [c.column for c in small.judged_columns] == ["colour"]
    assert small.status == "insufficient_data"
    lenient = detect_drift(reference, make_frame(200, seed=25), make_config(drift_share=1.0))
    assert lenient.status == "no_drift"  # even all three undecided columns could not reach 100 %


def test_a_larger_floor_and_column_threshold_raise_the_size_needed(reference):
    batch = make_frame(2_000, seed=26)
    default = detect_drift(reference, batch, make_config())
    strict = detect_drift(reference, batch, make_config(min_effect={"numerical": 0.03, "categorical": 0.1}))
    assert default.status == "no_drift"
    assert strict.column("normal").status == "insufficient_data"  # 2,000 rows cannot see a 0.03-std move
    raised = detect_drift(reference, batch, make_config(column_threshold=0.3))
    assert all(c.floor == 0.3 and c.threshold == 0.3 for c in raised.columns)
