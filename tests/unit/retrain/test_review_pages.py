"""What the review page lists and records, without HTTP: pages of rows, filters, all-or-none answers."""

import pandas as pd
import pytest

from base.settings_state import LOCAL_STATE
from retrain.review_web.pages import PAGE_ROWS, AnswersRefused, Order, ReviewSite, Show, queue_view, record
from serving import review_queue
from serving.review_queue import Reply


@pytest.fixture
def site(tmp_path):
    rows = pd.DataFrame(
        {
            "id": [f"r{i:03d}" for i in range(150)],
            "version": "2",
            "prediction": "1",
            "confidence": [i / 150 for i in range(150)],
        }
    )
    review_queue.enqueue(tmp_path, "m", "b1", rows.iloc[:120], pd.DataFrame({"x": range(120)}), url=LOCAL_STATE)
    review_queue.enqueue(tmp_path, "m", "b2", rows.iloc[120:], pd.DataFrame({"x": range(30)}), url=LOCAL_STATE)
    review_queue.record_domain(tmp_path, "m", "2", ("0", "1"), url=LOCAL_STATE)
    return ReviewSite(tmp_path, f"sqlite:///{tmp_path / 'none.db'}", LOCAL_STATE, tmp_path / "predictions", LOCAL_STATE)


def test_a_long_queue_comes_a_page_at_a_time_least_confident_first(site):
    first = queue_view(site, "m", None, Show.PENDING, Order.LEAST_CONFIDENT)
    assert [r.id for r in first.rows] == [f"r{i:03d}" for i in range(PAGE_ROWS)]
    assert (first.previous_start, first.next_start, first.matching) == (None, PAGE_ROWS, 150)
    assert first.rows[0].classes == ("0", "1") and first.rows[0].features == [("x", 0)]
    second = queue_view(site, "m", None, Show.PENDING, Order.LEAST_CONFIDENT, start=PAGE_ROWS)
    assert len(second.rows) == 50 and (second.previous_start, second.next_start) == (0, None)
    only_b2 = queue_view(site, "m", "b2", Show.PENDING, Order.LEAST_CONFIDENT)
    assert {r.batch for r in only_b2.rows} == {"b2"} and only_b2.batches == ["b1", "b2"]


def test_answers_are_recorded_under_the_reviewer_and_move_to_the_answered_view(site):
    record(site, "m", [Reply("r005", "0"), Reply("r121", "1")], "ann")
    view = queue_view(site, "m", None, Show.ANSWERED, Order.LEAST_CONFIDENT)
    assert [(r.id, r.label, r.reviewer) for r in view.rows] == [("r005", "0", "ann"), ("r121", "1", "ann")]
    assert (view.pending, view.answered) == (148, 2)
    with pytest.raises(AnswersRefused, match="no answer chosen"):
        record(site, "m", [], "ann")
    with pytest.raises(AnswersRefused, match="row r006: label '7' is not one of the model's classes"):
        record(site, "m", [Reply("r007", "1"), Reply("r006", "7")], "ann")
    assert queue_view(site, "m", None, Show.ANSWERED, Order.LEAST_CONFIDENT).answered == 2  # r007 not recorded
