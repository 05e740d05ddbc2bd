"""The prediction log, the review queue and the kept labels, on both backends.

Each test runs twice (the ``serving_url`` fixture): in files under a temporary home, and in a
PostgreSQL schema of its own, the team profile's shared state. The callers are the same.
"""

import json
from datetime import UTC, datetime

import pandas as pd
import pytest

from base.settings_state import LOCAL_STATE
from serving import label_store, prediction_log, review_queue
from serving.review_queue import Reply

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


def test_batches_are_logged_by_model_and_day_and_rescoring_replaces(tmp_path, serving_url):
    def write(batch, rows, day):
        return prediction_log.write_batch(tmp_path, "m", batch, rows, day, url=serving_url)

    first = write("b1", scored(["a", "b"]), DAY1)
    write("b2", scored(["c"]), DAY1)
    again = write("b1", scored(["a", "b"], version="2"), DAY2)

    log = prediction_log.read_log(tmp_path, "m", url=serving_url)
    assert sorted(log["id"]) == ["a", "b", "c"]  # b1 counted once, from its latest scoring
    assert set(log.loc[log["batch"] == "b1", "version"]) == {"2"}
    assert set(log.loc[log["batch"] == "b1", "day"]) == {"2026-03-02"}
    assert log["confidence"].dtype == float and log["scored_at"].notna().all()
    assert prediction_log.read_log(tmp_path, "other", url=serving_url).empty
    if serving_url == LOCAL_STATE:
        assert first == tmp_path / "m" / "day=2026-03-01" / "b1.parquet" and not first.exists() and again.exists()
    else:
        assert "retrain_prediction_batches/m/b1" in str(again) and not list(tmp_path.iterdir())
    prediction_log.forget(tmp_path, "m", url=serving_url)
    assert prediction_log.read_log(tmp_path, "m", url=serving_url).empty


def test_a_hostile_model_name_cannot_leave_the_log_folder(tmp_path):
    from base.errors import UsageError

    with pytest.raises(UsageError):
        prediction_log.write_batch(tmp_path, "../x", "b1", scored(["a"]), DAY1)


def test_an_answer_is_a_label_with_its_reviewer_and_survives_rescoring(tmp_path, serving_url):
    rows, features = scored(["a", "b"]), pd.DataFrame({"x": [1.5, 2.5], "city": ["ams", None]})
    assert review_queue.enqueue(tmp_path, "m", "b1", rows, features, url=serving_url) == 2
    review_queue.answer(tmp_path, "m", "b", "0", "ann@host", url=serving_url)
    review_queue.enqueue(tmp_path, "m", "b1", rows, features, url=serving_url)  # the same batch scored again

    pending = review_queue.list_queue(tmp_path, "m", url=serving_url)
    assert pending["id"].tolist() == ["a"] and json.loads(pending["features"][0]) == {"x": 1.5, "city": "ams"}
    answers = review_queue.answers(tmp_path, "m", url=serving_url)
    assert answers[["id", "label", "reviewer"]].values.tolist() == [["b", "0", "ann@host"]]
    everything = review_queue.list_queue(tmp_path, "m", pending_only=False, url=serving_url)
    assert everything["id"].tolist() == ["a", "b"] and everything["reviewer"].tolist()[1] == "ann@host"
    assert review_queue.queue_sizes(tmp_path, url=serving_url) == {"m": (1, 1)}
    with pytest.raises(review_queue.NotQueued, match="not in the review queue"):
        review_queue.answer(tmp_path, "m", "zzz", "1", "ann@host", url=serving_url)


def test_replies_are_all_or_nothing_and_a_second_submit_changes_nothing(tmp_path, serving_url):
    review_queue.enqueue(tmp_path, "m", "b1", scored(["a", "b", "c"]), pd.DataFrame({"x": [1, 2, 3]}), url=serving_url)

    def reply(*replies, who="ann"):
        return review_queue.reply(tmp_path, "m", replies, who, url=serving_url)

    def held():
        frame = review_queue.answers(tmp_path, "m", url=serving_url).sort_values("id")
        return frame[["id", "label", "reviewer"]].values.tolist()

    assert [a.id for a in reply(Reply("a", "1"), Reply("b", "0"))] == ["a", "b"]
    with pytest.raises(review_queue.AnswerChanged, match=r"row 'a' is no longer unanswered \(it now holds '1' by ann"):
        reply(Reply("c", "1"), Reply("a", "1"))  # the same form sent again, with one new row
    with pytest.raises(review_queue.NotQueued, match="'zz' is not in the review queue"):
        reply(Reply("c", "1"), Reply("zz", "1"))
    assert held() == [["a", "1", "ann"], ["b", "0", "ann"]]  # c written by neither

    reply(Reply("a", "0", seen="1"), who="bob")  # a correction of what bob saw
    with pytest.raises(review_queue.AnswerChanged, match="no longer answered '1'"):
        reply(Reply("a", "1", seen="1"))
    assert held() == [["a", "0", "bob"], ["b", "0", "ann"]]


def test_a_versions_classes_are_recorded_for_checking_answers(tmp_path, serving_url):
    assert review_queue.read_domain(tmp_path, "m", "3", url=serving_url) == (False, None)
    review_queue.record_domain(tmp_path, "m", "3", ("0", "1"), url=serving_url)
    review_queue.record_domain(tmp_path, "m", "4", None, url=serving_url)
    assert review_queue.read_domain(tmp_path, "m", "3", url=serving_url) == (True, ("0", "1"))
    assert review_queue.read_domain(tmp_path, "m", "4", url=serving_url) == (True, None)


def test_labels_add_up_across_deliveries_and_a_later_label_replaces_an_earlier_one(tmp_path, serving_url):
    def add(model, ids, labels):
        label_store.add_labels(tmp_path, model, pd.Series(ids), pd.Series(labels), url=serving_url)

    add("m", ["a", "b"], ["0", "1"])
    add("m", ["b", "c", "c"], ["0", "0", "1"])  # a repeated id in one delivery: the last one counts
    add("other", ["a"], ["1"])
    got = label_store.read_labels(tmp_path, "m", url=serving_url).sort_values("id")
    assert got[["id", "label"]].values.tolist() == [["a", "0"], ["b", "0"], ["c", "1"]]
    label_store.forget(tmp_path, "m", url=serving_url)
    assert label_store.read_labels(tmp_path, "m", url=serving_url).empty
    assert len(label_store.read_labels(tmp_path, "other", url=serving_url)) == 1


def test_the_environment_chooses_the_backend_when_the_caller_does_not(tmp_path, monkeypatch, serving_url):
    monkeypatch.delenv("RETRAIN_LEDGER_URL", raising=False)
    monkeypatch.setenv("RETRAIN_SERVING_URL", serving_url)
    label_store.add_labels(tmp_path, "m", pd.Series(["a"]), pd.Series(["1"]))
    assert (tmp_path / "labels.db").is_file() == (serving_url == LOCAL_STATE)
    assert label_store.read_labels(tmp_path, "m", url=serving_url)["label"].tolist() == ["1"]
