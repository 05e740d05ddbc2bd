"""An unchanged batch file is recognised by size and mtime; the content hash decides otherwise."""

from __future__ import annotations

import os

import pytest

from base.settings import ModelConfig
from monitoring.intake import check_batch
from monitoring.validation import propose_suite, write_suite


@pytest.fixture
def setup(tmp_path, batch, config):
    """A config whose suite fits ``batch``, its home under tmp_path, and the batch as a CSV."""
    suite = write_suite(propose_suite(batch, config), tmp_path / "suite.json")
    cfg = ModelConfig.model_validate(
        {
            **config.model_dump(exclude={"config_path"}),
            "validation": {"suite": str(suite)},
            "state": {"home": str(tmp_path / "home")},
        }
    )
    path = tmp_path / "batch.csv"
    batch.to_csv(path, index=False)
    return cfg, path


def test_second_intake_of_an_unchanged_file_is_recognised_without_hashing(setup):
    cfg, path = setup
    first = check_batch(path, cfg)
    second = check_batch(path, cfg)

    assert first.accepted and not first.cached and not first.recognised
    assert second.accepted and second.cached and second.recognised
    assert second.data_hash == first.data_hash
    assert second.frame.equals(first.frame)


def test_a_verdict_only_check_does_not_read_a_recognised_file(setup):
    cfg, path = setup
    check_batch(path, cfg)

    verdict = check_batch(path, cfg, with_frame=False)

    assert verdict.recognised and verdict.accepted and verdict.frame is None
    assert verdict.report.success


def test_touched_file_with_same_content_is_found_by_its_content_hash(setup):
    cfg, path = setup
    first = check_batch(path, cfg)
    later = os.stat(path).st_mtime_ns + 5_000_000_000
    os.utime(path, ns=(later, later))

    touched = check_batch(path, cfg)
    again = check_batch(path, cfg)

    assert touched.cached and not touched.recognised and touched.data_hash == first.data_hash
    assert again.recognised  # the new stamp was remembered


def test_changed_file_with_its_old_mtime_is_checked_by_content_again(setup, batch):
    cfg, path = setup
    check_batch(path, cfg)
    stat = os.stat(path)
    broken = batch.copy()
    broken["distance"] = broken["distance"] * 1000  # a unit slip; three more characters per row: the size changes
    broken.to_csv(path, index=False)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    changed = check_batch(path, cfg)

    assert os.stat(path).st_size != stat.st_size
    assert not changed.recognised and not changed.cached
    assert not changed.report.success and not changed.accepted


def test_an_edited_suite_is_not_served_by_an_old_stamp(setup):
    cfg, path = setup
    check_batch(path, cfg)
    cfg.suite_path.write_text(cfg.suite_path.read_text().replace("\n", "\n ", 1))

    after_edit = check_batch(path, cfg)

    assert not after_edit.recognised and not after_edit.cached and after_edit.accepted


def test_a_dry_run_check_remembers_nothing(setup):
    cfg, path = setup
    check_batch(path, cfg, remember=False)

    assert not check_batch(path, cfg, remember=False).recognised
    assert not cfg.validated_dir.exists() or not any(cfg.validated_dir.rglob("*.json"))


def test_a_recognised_file_is_read_from_its_kept_parquet_copy(setup, monkeypatch):
    import monitoring.intake as intake

    cfg, path = setup
    first = check_batch(path, cfg)
    kept = intake.frame_path(cfg, first.data_hash)
    assert kept.is_file(), "a passed batch keeps its parsed frame"

    def no_parsing(*args, **kwargs):
        raise AssertionError("a recognised batch with a kept copy must not be parsed again")

    with monkeypatch.context() as patch:
        patch.setattr(intake, "read_batch", no_parsing)
        second = check_batch(path, cfg)
    assert second.recognised and second.frame.equals(first.frame)

    kept.write_bytes(b"not parquet")  # a damaged copy: the file is parsed again and the copy rewritten
    third = check_batch(path, cfg)
    assert third.recognised and third.frame.equals(first.frame)
    assert kept.read_bytes()[:4] == b"PAR1"
