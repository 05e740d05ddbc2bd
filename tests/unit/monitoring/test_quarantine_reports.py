"""The quarantine reads back as a person needs it: what is held, why, where it came from;
a release accepts exactly the failures the person saw, and a refused record changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from base.errors import StoreUnavailable
from base.settings import ModelConfig
from monitoring.quarantine import (
    QuarantineError,
    accept_released,
    find_quarantined,
    list_quarantined,
    original_name,
    release_batch,
    release_hint,
)
from monitoring.timestamps import CHECK
from monitoring.types import ExpectationFailure, ValidationReport
from monitoring.validation import propose_suite, quarantine_batch, validate_batch, write_suite
from registry.releases import Release


def quarantine_frame(frame, name, batches, folder, suite):
    """Write ``frame`` as a batch file, validate it for real and quarantine it as ``retrain run`` does."""
    batches.mkdir(parents=True, exist_ok=True)
    path = batches / name
    frame.to_csv(path, index=False)
    report = validate_batch(frame, suite, name)
    assert not report.success
    return quarantine_batch(path, report, folder), report


@pytest.fixture
def suite(batch, config, tmp_path):
    return write_suite(propose_suite(batch, config), tmp_path / "suite.json")


def garbled(batch):
    return batch.assign(carrier=[f"Z{i % 3}" for i in range(len(batch))])


def test_a_missing_or_empty_folder_holds_nothing(tmp_path):
    assert list_quarantined(tmp_path / "nowhere") == []
    (tmp_path / "empty").mkdir()
    assert list_quarantined(tmp_path / "empty") == []


def test_the_list_reads_each_report_oldest_first(batch, suite, tmp_path):
    folder, batches = tmp_path / "quarantine" / "m", tmp_path / "batches"
    first, _ = quarantine_frame(garbled(batch), "m07.csv", batches, folder, suite)
    again, _ = quarantine_frame(garbled(batch).head(50), "m07.csv", batches, folder, suite)
    (folder / "orphan.csv.report.json").write_text(json.dumps({"batch": "orphan.csv", "success": False}))

    held = list_quarantined(folder)

    assert [q.name for q in held] == [first.name, again.name] and again.name != "m07.csv"
    assert [q.report.rows for q in held] == [len(batch), 50]
    assert held[0].original_path == (batches / "m07.csv").resolve()
    assert "expect_column_values_to_be_in_set(carrier)" in held[0].to_dict()["summary"]
    assert datetime.fromisoformat(held[0].quarantined_at) <= datetime.now(UTC)
    [failure] = held[1].to_dict()["report"]["failures"]
    assert (failure["column"], failure["unexpected_count"], failure["unexpected_percent"]) == ("carrier", 50, 100.0)
    assert original_name(again.name) == "m07.csv"


def test_an_unknown_batch_is_refused_naming_what_is_held(batch, suite, tmp_path):
    folder = tmp_path / "quarantine" / "m"
    quarantine_frame(garbled(batch), "m07.csv", tmp_path / "batches", folder, suite)

    assert find_quarantined(folder, "m", "m07.csv").path == folder / "m07.csv"
    with pytest.raises(QuarantineError, match=r"'m08.csv'.*quarantined: m07.csv"):
        find_quarantined(folder, "m", "m08.csv")
    with pytest.raises(QuarantineError, match="quarantined: nothing"):
        find_quarantined(tmp_path / "other", "m", "m07.csv")


def test_original_names_keep_dots_of_their_own():
    assert original_name("flights.2013-07.csv") == "flights.2013-07.csv"
    assert original_name("flights.2013-07.20261205T101010123456Z-2.csv") == "flights.2013-07.csv"
    assert original_name("m07.csv.20261205T101010123456Z.gz") == "m07.csv.gz"


def released(*failures: str) -> Release:
    at = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)
    return Release("m", "m07.csv", "h" * 64, "renamed upstream", "ana", False, None, failures, at)


def test_a_release_turns_exactly_the_failures_it_saw_into_warnings(batch, suite):
    report = validate_batch(garbled(batch), suite, "m07.csv")

    accepted = accept_released(report, released("expect_column_values_to_be_in_set(carrier)"))

    assert accepted.success and accepted.failures == []
    assert any(w.column == "carrier" and "released by ana" in w.details for w in accepted.warnings)
    notes = [w.details for w in accepted.warnings if w.expectation == "released_from_quarantine"]
    assert len(notes) == 1 and "renamed upstream" in notes[0]


def test_a_failure_the_release_did_not_cover_still_fails(batch, suite):
    worse = garbled(batch).assign(distance=10**7)  # a gross outlier the release never saw
    report = validate_batch(worse, suite, "m07.csv")

    still = accept_released(report, released("expect_column_values_to_be_in_set(carrier)"))

    assert not still.success and {f.column for f in still.failures} >= {"carrier", "distance"}
    [note] = [w for w in still.warnings if w.expectation == "released_from_quarantine"]
    assert "does not cover" in note.details and "(distance)" in note.details


def test_a_release_the_ledger_refuses_moves_nothing_and_keeps_the_suite(batch, config, tmp_path, monkeypatch):
    home, batches = tmp_path / "home", tmp_path / "batches"
    cfg = ModelConfig.model_validate(
        config.model_dump() | {"validation": {"suite": str(tmp_path / "suite.json")}, "state": {"home": str(home)}}
    )
    suite = write_suite(propose_suite(batch, cfg), cfg.suite_path)
    held, _ = quarantine_frame(garbled(batch), "m07.csv", batches, cfg.quarantine_dir, suite)
    before = suite.read_text()
    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("RETRAIN_LEDGER_URL", f"sqlite:///{tmp_path / 'not-a-folder' / 'ledger.db'}")

    with pytest.raises(StoreUnavailable):
        release_batch(cfg, "m07.csv", "renamed upstream", "ana", widen=True)

    assert held.is_file() and not (batches / "m07.csv").exists()
    assert suite.read_text() == before and not (tmp_path / "suite.v1.json").exists()
    with pytest.raises(QuarantineError, match="reason"):
        release_batch(cfg, "m07.csv", "  ", "ana")


def test_a_batch_with_impossible_timestamps_cannot_be_released(batch, config, tmp_path):
    cfg = ModelConfig.model_validate(
        config.model_dump() | {"validation": {"suite": str(tmp_path / "suite.json")}, "state": {"home": str(tmp_path)}}
    )
    path = tmp_path / "batches" / "m99.csv"
    path.parent.mkdir()
    batch.to_csv(path, index=False)
    failure = ExpectationFailure(CHECK, "ts", 200, 100.0, "dated 2099, beyond a day of clock skew")
    report = ValidationReport("m99.csv", False, len(batch), 1, [failure])
    held = quarantine_batch(path, report, cfg.quarantine_dir)

    with pytest.raises(QuarantineError, match="timestamps cannot be true"):
        release_batch(cfg, "m99.csv", "looks fine to me", "ana")

    assert held.is_file() and not path.exists()


def test_the_run_names_the_command_that_releases_a_batch(config, tmp_path):
    suite_failure = ExpectationFailure("expect_column_values_to_be_in_set", "carrier", 3, 1.5, "unseen values")
    dated_failure = ExpectationFailure(CHECK, "ts", 200, 100.0, "dated 2099")
    failed = ValidationReport("m07.csv", False, 200, 30, [suite_failure])
    dated = ValidationReport("m99.csv", False, 200, 1, [dated_failure])
    held = [str(tmp_path / "m99.csv"), str(tmp_path / "m07.20261205T101010123456Z.csv")]

    hint = release_hint(config, [dated, failed], held)

    assert "retrain quarantine release flights-test m07.20261205T101010123456Z.csv --reason" in hint
    assert "all: retrain quarantine list flights-test" in hint
    assert "release" not in release_hint(config, [dated], held[:1])
