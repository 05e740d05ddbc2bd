"""Inputs the drift check must handle or refuse clearly: missing columns, all-null columns,
new categories, misaligned predictions, and Evidently results read by column name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from base.settings import ModelConfig
from monitoring.drift import detect_drift, read_value_drift
from monitoring.drift_types import DriftInputError


def make_config(categorical: list[str] | None = None, exclude: tuple[str, ...] = (), **drift) -> ModelConfig:
    data = {"path": "b/*.csv", "timestamp_column": "ts", "target_column": "y", "exclude": list(exclude)}
    if categorical is not None:
        data["categorical"] = categorical
    return ModelConfig.model_validate(
        {"name": "m", "task": "binary", "data": data, "validation": {"suite": "m.suite.json"}, "drift": drift}
    )


def make_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "ts": pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(np.arange(n), unit="s"),
            "amount": rng.normal(10.0, 2.0, n),
            "count": rng.poisson(3.0, n).astype(float),
            "city": rng.choice(np.array(["oslo", "rome", "lima"]), n),
            "y": rng.integers(0, 2, n),
        }
    )


def test_missing_feature_columns_are_named():
    current = make_frame(2_000, seed=2).drop(columns=["amount", "city"])
    with pytest.raises(DriftInputError) as err:
        detect_drift(make_frame(3_000, seed=1), current, make_config())
    assert err.value.columns == ["amount", "city"]
    assert "current" in str(err.value) and "amount" in str(err.value)


def test_features_default_to_all_but_timestamp_target_and_excluded():
    config = make_config(exclude=("count",))
    report = detect_drift(make_frame(3_000, seed=1), make_frame(2_000, seed=2), config)
    assert [c.column for c in report.columns] == ["amount", "city"]


def test_column_that_became_all_null_is_drifted_without_score():
    current = make_frame(2_000, seed=2)
    current["count"] = np.nan
    report = detect_drift(make_frame(3_000, seed=1), current, make_config(drift_share=0.3))
    emptied = report.column("count")
    assert emptied.drifted and emptied.score is None and emptied.method == "all_null"
    assert report.drifted_columns == ("count",)
    assert report.drifted


def test_column_null_on_both_sides_is_not_drifted():
    reference, current = make_frame(3_000, seed=1), make_frame(2_000, seed=2)
    reference["city"] = None
    current["city"] = None
    report = detect_drift(reference, current, make_config())
    assert not report.column("city").drifted
    assert report.drifted_columns == ()


def test_new_category_taking_a_large_share_is_flagged():
    current = make_frame(2_000, seed=2)
    current.loc[: len(current) // 2, "city"] = "kyiv"
    report = detect_drift(make_frame(3_000, seed=1), current, make_config(drift_share=0.3))
    assert report.drifted_columns == ("city",)


def test_integer_labels_read_as_floats_are_the_same_category():
    reference, current = make_frame(3_000, seed=1), make_frame(2_000, seed=2)
    reference["count"] = reference["count"].astype(int)
    current.loc[0, "count"] = np.nan  # one null turns the current labels into floats
    report = detect_drift(reference, current, make_config(categorical=["count"]), features=["count"])
    column = report.column("count")
    assert column.column_type == "categorical" and column.method == "jensenshannon"
    assert not column.drifted


def test_predictions_on_one_side_only_are_refused():
    with pytest.raises(DriftInputError, match="both sides"):
        detect_drift(
            make_frame(3_000, seed=1), make_frame(2_000, seed=2), make_config(), reference_predictions=np.zeros(3_000)
        )


def test_misaligned_predictions_are_refused():
    with pytest.raises(DriftInputError, match="current predictions"):
        detect_drift(
            make_frame(3_000, seed=1),
            make_frame(2_000, seed=2),
            make_config(),
            reference_predictions=np.zeros(3_000),
            current_predictions=np.zeros(1_999),
        )


def test_empty_current_batch_is_refused():
    with pytest.raises(DriftInputError, match="no rows"):
        detect_drift(make_frame(3_000, seed=1), make_frame(0, seed=2), make_config())


def test_results_are_matched_by_column_name_not_position():
    result = {
        "metrics": [
            {"config": {"type": "evidently:metric_v2:ValueDrift", "column": "b"}, "value": 0.4},
            {"config": {"type": "evidently:metric_v2:DriftedColumnsCount"}, "value": {"count": 1, "share": 0.5}},
            {"config": {"type": "evidently:metric_v2:ValueDrift", "column": "a"}, "value": 0.01},
        ],
        "tests": [
            {
                "metric_config": {"params": {"type": "evidently:metric_v2:ValueDrift", "column": "a"}},
                "status": "SUCCESS",
            },
            {"metric_config": {"params": {"type": "evidently:metric_v2:ValueDrift", "column": "b"}}, "status": "FAIL"},
        ],
    }
    assert read_value_drift(result, ["a", "b"]) == {"a": (0.01, False), "b": (0.4, True)}
    with pytest.raises(RuntimeError, match="'c'"):
        read_value_drift(result, ["a", "c"])


def test_low_cardinality_numeric_column_uses_category_distance():
    reference, current = make_frame(3_000, seed=1), make_frame(2_000, seed=2)
    reference["flag"] = reference["y"]
    current["flag"] = current["y"]
    report = detect_drift(reference, current, make_config())
    assert report.column("flag").column_type == "numerical"
    assert report.column("flag").method == "jensenshannon"
    assert report.column("amount").method == "wasserstein"
