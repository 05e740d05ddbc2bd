"""Quarantine moves a bad batch aside with its report and never loses the file;
an unreadable batch still gets a report that says why."""

from __future__ import annotations

import json

import pytest

from monitoring.types import ExpectationFailure, ValidationReport
from monitoring.validation import quarantine_batch, report_load_error

FAILED = ValidationReport(
    batch="m07.csv",
    success=False,
    rows=3,
    evaluated=4,
    failures=[ExpectationFailure("expect_column_values_to_be_between", "distance", 1, 33.3, "observed -5")],
    suite="flights",
)


def make_batch_file(folder, name="m07.csv", content="a,b\n1,2\n"):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(content)
    return path


def test_quarantine_moves_the_file_and_writes_the_report(tmp_path):
    source = make_batch_file(tmp_path / "batches")
    target = quarantine_batch(source, FAILED, tmp_path / "quarantine" / "model")
    assert not source.exists()
    assert target == tmp_path / "quarantine" / "model" / "m07.csv"
    assert target.read_text() == "a,b\n1,2\n"
    record = json.loads((target.parent / "m07.csv.report.json").read_text())
    assert record["success"] is False and record["failures"][0]["column"] == "distance"
    assert record["original_path"] == str(source.resolve())
    assert record["quarantined_path"] == str(target.resolve())
    assert record["quarantined_at"].startswith("20")
    assert ValidationReport.from_dict(record) == FAILED
    assert sorted(p.name for p in target.parent.iterdir()) == ["m07.csv", "m07.csv.report.json"]


def test_same_name_twice_keeps_both(tmp_path):
    quarantine = tmp_path / "quarantine"
    first = quarantine_batch(make_batch_file(tmp_path / "in", content="first\n"), FAILED, quarantine)
    second = quarantine_batch(make_batch_file(tmp_path / "in", content="second\n"), FAILED, quarantine)
    third = quarantine_batch(make_batch_file(tmp_path / "in", content="third\n"), FAILED, quarantine)
    assert len({first, second, third}) == 3
    assert [p.read_text() for p in (first, second, third)] == ["first\n", "second\n", "third\n"]
    assert second.name.startswith("m07.") and second.suffix == ".csv"
    for path in (first, second, third):
        assert path.with_name(path.name + ".report.json").is_file()


def test_failed_report_write_leaves_the_file_in_place(tmp_path):
    source = make_batch_file(tmp_path / "batches")
    quarantine = tmp_path / "quarantine"
    (quarantine / "m07.csv.report.json.tmp").mkdir(parents=True)  # the report cannot be written
    with pytest.raises(OSError):
        quarantine_batch(source, FAILED, quarantine)
    assert source.read_text() == "a,b\n1,2\n"
    assert not (quarantine / "m07.csv").exists()


def test_failed_move_removes_the_report_and_keeps_the_file(tmp_path):
    missing = tmp_path / "batches" / "gone.csv"
    quarantine = tmp_path / "quarantine"
    with pytest.raises(OSError):
        quarantine_batch(missing, FAILED, quarantine)
    assert list(quarantine.iterdir()) == []


def test_report_load_error_is_a_failed_report():
    from training.data import DataError

    report = report_load_error("batches/m08.csv", DataError("batches/m08.csv", "empty file (0 bytes)"))
    assert (report.success, report.rows, report.evaluated, report.failures) == (False, 0, 0, [])
    assert report.batch == "m08.csv" and report.error == "batches/m08.csv: empty file (0 bytes)"
    assert report.summary().startswith("ERROR m08.csv:") and "empty file" in report.summary()
    assert json.loads(json.dumps(report.to_dict()))["error"] == report.error


def test_unreadable_batch_can_be_quarantined(tmp_path):
    source = make_batch_file(tmp_path / "batches", "m09.csv", content="")
    report = report_load_error(source, "empty file (0 bytes)")
    target = quarantine_batch(source, report, tmp_path / "quarantine")
    record = json.loads(target.with_name("m09.csv.report.json").read_text())
    assert target.is_file() and record["error"] == "empty file (0 bytes)" and record["rows"] == 0
