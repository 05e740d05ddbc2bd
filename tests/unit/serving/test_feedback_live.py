"""Live figures from labels joined to the prediction log, and the verdict on the champion."""

import numpy as np
import pandas as pd
import pytest

from base.settings import ModelConfig
from serving.feedback import LabelsUnusable, judge_feedback, read_labels


def config(**drift) -> ModelConfig:
    return ModelConfig.model_validate(
        {
            "name": "m",
            "task": "binary",
            "data": {"path": "b/*.csv", "timestamp_column": "ts", "target_column": "late"},
            "validation": {"suite": "s.json"},
            "drift": {"min_rows": 50, "performance_tolerance": 0.05, **drift},
        }
    )


def logged(day: str, n: int = 200, version: str = "1", seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Logged rows of a calibrated binary model, and their true labels."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0, 1, n)
    truth = (rng.uniform(0, 1, n) < p).astype(int)
    rows = pd.DataFrame(
        {
            "id": [f"{day}-{i}" for i in range(n)],
            "prediction": np.where(p >= 0.5, "1", "0"),
            "score": p,
            "confidence": np.abs(2 * p - 1),
            "version": version,
            "route": np.where(np.abs(2 * p - 1) < 0.2, "review", "auto"),
            "positive_label": "1",
            "day": day,
        }
    )
    return rows, truth


def labels_of(rows: pd.DataFrame, truth: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"id": rows["id"], "truth": truth})


NO_ANSWERS = pd.DataFrame(columns=["id", "label", "reviewer", "answered_at"])


def test_a_champion_as_good_as_promised_raises_no_signal_and_figures_are_per_day():
    (a, ya), (b, yb) = logged("2026-03-01"), logged("2026-03-02", seed=1)
    yb = yb.astype(float)  # a label column with a gap is read as floats: 1.0 is still label 1
    log, labels = pd.concat([a, b]), pd.concat([labels_of(a, ya), labels_of(b, yb)])
    got = judge_feedback(config(), log, labels, NO_ANSWERS, "1", baseline=0.82)
    assert [d.day for d in got.days] == ["2026-03-01", "2026-03-02"]
    assert got.decay is not None and not got.degraded and got.signals == ()
    assert got.labelled_rows == 400
    day = got.days[1]
    assert day.review_rate == pytest.approx((b["route"] == "review").mean())
    assert day.auto_accuracy > day.accuracy  # the unsure rows were the ones left to people


def test_flipped_outcomes_on_the_latest_day_are_a_performance_signal_unless_the_policy_ignores_it():
    (a, ya), (b, yb) = logged("2026-03-01"), logged("2026-03-02", seed=1)
    log, labels = pd.concat([a, b]), pd.concat([labels_of(a, ya), labels_of(b, 1 - yb)])
    got = judge_feedback(config(), log, labels, NO_ANSWERS, "1", baseline=0.82)
    assert got.degraded and got.signals == ("performance",)
    assert got.decay.current < 0.3 and "2026-03-02" in got.notes[0]
    ignored = judge_feedback(config(triggers=["drift"]), log, labels, NO_ANSWERS, "1", baseline=0.82)
    assert ignored.degraded and ignored.signals == ()


def test_too_few_labelled_rows_or_another_versions_rows_are_not_judged():
    rows, truth = logged("2026-03-01", n=30)
    assert judge_feedback(config(), rows, labels_of(rows, 1 - truth), NO_ANSWERS, "1", 0.82).decay is None
    rows, truth = logged("2026-03-01", version="1")
    assert judge_feedback(config(), rows, labels_of(rows, 1 - truth), NO_ANSWERS, "2", 0.82).decay is None


def test_a_file_label_wins_over_a_reviewers_answer_and_overrides_are_counted():
    rows, truth = logged("2026-03-01")
    reviewed = rows[rows["route"] == "review"].head(4)
    answers = pd.DataFrame({"id": reviewed["id"], "label": ["1", "0", "1", "0"], "reviewer": "r", "answered_at": ""})
    disagree = float((answers["label"].to_numpy() != reviewed["prediction"].to_numpy()).mean())
    got = judge_feedback(config(), rows, pd.DataFrame(columns=["id", "truth"]), answers, "1", 0.82)
    assert got.labelled_rows == 4 and got.review_answers == 4
    assert got.review_override_rate == pytest.approx(disagree)
    with_file = judge_feedback(config(), rows, labels_of(rows, truth), answers, "1", 0.82)
    assert with_file.labelled_rows == 200  # the answered rows are labelled once, by the file


def test_labels_file_needs_an_id_and_a_label(tmp_path):
    good = tmp_path / "labels.csv"
    pd.DataFrame({"id": [1, 2, 2], "late": [0, 1, 0]}).to_csv(good, index=False)
    labels = read_labels(good, config())
    assert labels.values.tolist() == [["1", 0], ["2", 0]]  # the target column counts; the last answer wins
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"key": [1], "label": [0]}).to_csv(bad, index=False)
    with pytest.raises(LabelsUnusable, match="no id column"):
        read_labels(bad, config())


def test_live_metrics_match_the_gates_for_multiclass_and_regression():
    from serving.live_figures import TRUTH, live_metric
    from training.metrics import metric_from_outputs
    from training.types import Outputs

    rng = np.random.default_rng(3)
    proba = rng.dirichlet([1, 1, 1], 300)
    labels = np.array(["a", "b", "c"])
    truth = rng.choice(labels, 300)
    rows = pd.DataFrame({"prediction": labels[proba.argmax(axis=1)], TRUTH: truth})
    gate = metric_from_outputs("multiclass", "macro_f1", truth, Outputs(values=proba, labels=labels))
    assert live_metric("multiclass", "macro_f1", rows) == pytest.approx(gate)

    predicted, actual = rng.normal(0, 1, 300), rng.normal(0, 1, 300)
    rows = pd.DataFrame({"prediction": predicted, TRUTH: [str(v) for v in actual]})  # remembered labels are text
    gate = metric_from_outputs("regression", "rmse", actual, Outputs(values=predicted))
    assert live_metric("regression", "rmse", rows) == pytest.approx(gate)
