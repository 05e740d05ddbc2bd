"""The drift check flags real shifts, names the shifted column, and stays quiet on large
in-distribution batches (real Evidently on sampled frames)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from base.settings import ModelConfig
from monitoring.drift import PREDICTION_COLUMN, detect_drift, render_report_html, sample_reference

FEATURES = ["num_a", "num_b", "num_c", "cat_a", "cat_b"]
CAT_A = np.array(["red", "green", "blue", "grey"])
CAT_A_SHARES = [0.4, 0.3, 0.2, 0.1]


def make_config(**drift) -> ModelConfig:
    return ModelConfig.model_validate(
        {
            "name": "m",
            "task": "binary",
            "data": {"path": "b/*.csv", "timestamp_column": "ts", "target_column": "y"},
            "validation": {"suite": "m.suite.json"},
            "drift": drift,
        }
    )


def make_frame(n: int, seed: int, shift_num_a: float = 0.0, cat_a_shares=CAT_A_SHARES) -> pd.DataFrame:
    """Three numerical and two categorical features, a timestamp and a label."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "ts": pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(np.arange(n), unit="s"),
            "num_a": rng.normal(shift_num_a, 1.0, n),
            "num_b": rng.lognormal(0.0, 0.5, n),
            "num_c": rng.integers(0, 10, n),
            "cat_a": rng.choice(CAT_A, n, p=cat_a_shares),
            "cat_b": rng.choice(np.array(["x", "y"]), n),
            "y": rng.integers(0, 2, n),
        }
    )


def predict(frame: pd.DataFrame) -> np.ndarray:
    """A fixed scoring rule standing in for the champion: a probability per row."""
    return 1.0 / (1.0 + np.exp(-(frame["num_a"].to_numpy() - 0.3 * frame["num_c"].to_numpy() + 1.0)))


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return make_frame(20_000, seed=1)


def test_in_distribution_batch_is_not_flagged(reference):
    report = detect_drift(reference, make_frame(6_000, seed=2), make_config())
    assert not report.drifted
    assert report.drifted_columns == ()
    assert [c.column for c in report.columns] == FEATURES
    assert {c.kind for c in report.columns} == {"feature"}


def test_shifted_numeric_feature_is_flagged_and_named(reference):
    report = detect_drift(reference, make_frame(6_000, seed=3, shift_num_a=2.0), make_config(drift_share=0.2))
    assert report.drifted
    assert report.drifted_columns == ("num_a",)
    shifted = report.column("num_a")
    assert shifted.method == "wasserstein" and shifted.column_type == "numerical"
    assert shifted.floor == 0.1 and shifted.noise < shifted.floor  # 6,000 rows tell a 0.1 shift from noise
    assert shifted.score >= shifted.threshold and shifted.threshold == pytest.approx(shifted.floor)
    assert shifted.p_value <= 0.01 and shifted.status == "drift"
    assert report.share == pytest.approx(1 / len(FEATURES))


def test_dataset_verdict_follows_the_configured_share(reference):
    batch = make_frame(6_000, seed=3, shift_num_a=2.0)
    report = detect_drift(reference, batch, make_config(drift_share=0.5))
    assert report.drifted_columns == ("num_a",)
    assert report.threshold == 0.5
    assert not report.drifted


def test_changed_category_shares_are_flagged(reference):
    batch = make_frame(6_000, seed=4, cat_a_shares=[0.1, 0.1, 0.2, 0.6])
    report = detect_drift(reference, batch, make_config(drift_share=0.2))
    assert report.drifted_columns == ("cat_a",)
    assert report.column("cat_a").method == "jensenshannon"


def test_column_threshold_from_config_is_applied(reference):
    batch = make_frame(6_000, seed=5, shift_num_a=0.5)
    loose = detect_drift(reference, batch, make_config(column_threshold=0.9))
    strict = detect_drift(reference, batch, make_config(column_threshold=0.1))
    assert "num_a" not in loose.drifted_columns
    assert "num_a" in strict.drifted_columns
    assert {c.threshold for c in loose.columns} == {0.9}


def test_million_row_in_distribution_batch_is_not_flagged_and_predictions_are_compared(reference):
    batch = make_frame(1_000_000, seed=6)
    report = detect_drift(
        reference,
        batch,
        make_config(sample_rows=5_000),
        reference_predictions=predict(reference),
        current_predictions=predict(batch),
    )
    assert not report.drifted
    assert report.drifted_columns == ()
    assert report.current_rows == 1_000_000
    assert report.current_sampled_rows == 5_000
    prediction = report.column(PREDICTION_COLUMN)
    assert prediction.kind == "prediction" and prediction.method == "wasserstein"
    assert not report.prediction_drifted


def test_shifted_predictions_are_reported_as_prediction_drift(reference):
    batch = make_frame(6_000, seed=7)
    report = detect_drift(
        reference,
        batch,
        make_config(),
        reference_predictions=predict(reference),
        current_predictions=np.clip(predict(batch) + 0.3, 0.0, 1.0),
    )
    assert report.prediction_drifted
    assert report.drifted_columns == (PREDICTION_COLUMN,)


def test_method_is_fixed_and_the_noise_follows_the_batch_size(reference):
    small = detect_drift(reference, make_frame(400, seed=8), make_config())
    large = detect_drift(reference, make_frame(50_000, seed=9), make_config())
    assert [c.method for c in small.columns] == [c.method for c in large.columns]
    assert all(s.noise > 2 * g.noise for s, g in zip(small.columns, large.columns, strict=False))
    assert not small.drifted and not large.drifted and large.warnings == ()
    assert large.status == "no_drift" and all(c.threshold == c.floor for c in large.columns)


def test_stored_reference_sample_gives_the_same_answer_as_the_full_frame(reference):
    config = make_config(sample_rows=2_000, seed=11)
    snapshot = sample_reference(reference, config)
    assert len(snapshot) == 2_000
    assert snapshot.equals(sample_reference(reference, config))
    batch = make_frame(3_000, seed=10, shift_num_a=0.3)
    from_full = detect_drift(reference, batch, config)
    from_snapshot = detect_drift(snapshot, batch, config)
    assert [c.score for c in from_full.columns] == [c.score for c in from_snapshot.columns]
    assert from_snapshot.reference_sampled_rows == from_full.reference_sampled_rows == 2_000


def test_report_serialises_to_json_and_renders_html_on_request(reference):
    report = detect_drift(reference, make_frame(2_000, seed=12), make_config())
    payload = json.loads(json.dumps(report.to_dict()))
    assert payload["drifted"] is False and payload["status"] == "no_drift"
    assert [c["column"] for c in payload["columns"]] == FEATURES
    assert "html" not in payload and "compared" not in payload
    html = render_report_html(report)
    assert html is not None and "<html" in html.lower()
    assert "no drift" in report.summary()


def test_drift_is_a_signal_only_when_configured(reference):
    from monitoring.decay import decide_signals

    report = detect_drift(reference, make_frame(3_000, seed=13, shift_num_a=2.0), make_config(drift_share=0.2))
    assert report.drifted
    assert decide_signals(report, None, ["drift", "performance"]) == ["drift"]
    assert decide_signals(report, None, ["performance"]) == []


def test_prediction_function_runs_on_sampled_rows_only(reference):
    batch = make_frame(30_000, seed=14)
    seen = []

    def champion(frame: pd.DataFrame) -> np.ndarray:
        seen.append(len(frame))
        return predict(frame)

    config = make_config(sample_rows=3_000)
    lazy = detect_drift(reference, batch, config, reference_predictions=champion, current_predictions=champion)
    eager = detect_drift(reference, batch, config, predict(reference), predict(batch))
    assert seen == [3_000, 3_000]
    assert lazy.column(PREDICTION_COLUMN).score == eager.column(PREDICTION_COLUMN).score
