"""The demo's simulated clock: signals first, then the schedule, else no retrain."""

from __future__ import annotations

from pathlib import Path

from retrain.demo.play import choose_trigger, label_of, month_of


def test_signals_win_over_the_schedule():
    assert choose_trigger({"status": "signal", "signals": ["performance", "drift"]}, 0, 60) == "performance"


def test_schedule_fires_only_when_due():
    quiet = {"status": "ok", "signals": []}
    assert choose_trigger(quiet, 1, 60) is None
    assert choose_trigger(quiet, 2, 60) == "schedule"


def test_an_invalid_batch_is_handled_at_once():
    assert choose_trigger({"status": "data_invalid", "signals": []}, 0, 60) == "manual"


def test_months_and_labels_come_from_file_names():
    files = [Path("b/flights-2013-01.csv"), Path("b/flights-2013-03.csv")]
    assert month_of(Path("flights-2013-07-broken.csv")) == 7
    assert label_of(files) == "2013-01..03"
    assert label_of(files[:1]) == "2013-01"


def test_late_labels_that_show_decay_trigger_first_and_the_timeline_says_so():
    from retrain.demo.play import served_columns
    from retrain.demo.serving import merge_signals

    check = {"status": "signal", "signals": ["drift"]}
    served = {"served": "v2", "live_auc": 0.61, "signals": ["performance"]}
    assert choose_trigger(merge_signals(check, served), 0, 60) == "performance"
    assert served_columns(served, "performance")["feedback_triggered"] is True
    assert served_columns(served, "drift")["feedback_triggered"] is False
    assert merge_signals(check, {"served": "refused", "signals": []})["signals"] == ["drift"]
