"""The prediction log's files and the review queue's answers, on a temporary home."""

from datetime import UTC, datetime

import pandas as pd
import pytest

from serving import label_store, prediction_log, review_queue

DAY1, DAY2 = datetime(2026, 3, 1, 12, tzinfo=UTC), datetime(2026, 3, 2, 9, tzinfo=UTC)


def scored(ids, version="1"):
    return pd.DataFrame(
        {
            "id": ids,
            "prediction": ["1"] * len(ids),
            "confidence": [0.1 * i for i in range(len(ids))],
            "version": version,
        }
    )


def test_batches_land_under_model_and_day_and_rescoring_replaces(tmp_path):
    first = prediction_log.write_batch(tmp_path, "m", "b1", scored(["a", "b"]), DAY1)
    assert first == tmp_path / "m" / "day=2026-03-01" / "b1.parquet"
    prediction_log.write_batch(tmp_path, "m", "b2", scored(["c"]), DAY1)
    again = prediction_log.write_batch(tmp_path, "m", "b1", scored(["a", "b"], version="2"), DAY2)

    log = prediction_log.read_log(tmp_path, "m")
    assert not first.exists() and again.exists()
    assert sorted(log["id"]) == ["a", "b", "c"]  # b1 counted once, from its latest scoring
    assert set(log.loc[log["batch"] == "b1", "version"]) == {"2"}
    assert set(log.loc[log["batch"] == "b1", "day"]) == {"2026-03-02"}
    assert prediction_log.read_log(tmp_path, "other").empty


def test_a_hostile_model_name_cannot_leave_the_log_folder(tmp_path):
    from base.errors import UsageError

    with pytest.raises(UsageError):
        prediction_log.write_batch(tmp_path, "../x", "b1", scored(["a"]), DAY1)


def test_an_answer_is_a_label_with_its_reviewer_and_survives_rescoring(tmp_path):
    rows, features = scored(["a", "b"]), pd.DataFrame({"x": [1.5, 2.5], "city": ["ams", None]})
    assert review_queue.enqueue(tmp_path, "m", "b1", rows, features) == 2
    review_queue.answer(tmp_path, "m", "b", "0", "ann@host")
    review_queue.enqueue(tmp_path, "m", "b1", rows, features)  # the same batch scored again

    pending = review_queue.list_queue(tmp_path, "m")
    assert pending["id"].tolist() == ["a"] and '"x": 1.5' in pending["features"][0]
    answers = review_queue.answers(tmp_path, "m")
    assert answers[["id", "label", "reviewer"]].values.tolist() == [["b", "0", "ann@host"]]
    with pytest.raises(review_queue.NotQueued, match="not in the review queue"):
        review_queue.answer(tmp_path, "m", "zzz", "1", "ann@host")


def test_labels_add_up_across_deliveries_and_a_later_label_replaces_an_earlier_one(tmp_path):
    label_store.add_labels(tmp_path, "m", pd.Series(["a", "b"]), pd.Series(["0", "1"]))
    label_store.add_labels(tmp_path, "m", pd.Series(["b", "c"]), pd.Series(["0", "1"]))
    label_store.add_labels(tmp_path, "other", pd.Series(["a"]), pd.Series(["1"]))
    got = label_store.read_labels(tmp_path, "m").sort_values("id")
    assert got[["id", "label"]].values.tolist() == [["a", "0"], ["b", "0"], ["c", "1"]]
    label_store.forget(tmp_path, "m")
    assert label_store.read_labels(tmp_path, "m").empty and len(label_store.read_labels(tmp_path, "other")) == 1
