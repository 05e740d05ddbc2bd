"""Batch intake: read a batch file and decide whether it may be trusted.

Every batch is validated before it is used. A batch whose exact content already passed
the suite is not validated again (the record is keyed by content hash *and* suite hash),
so a retrain over twelve monthly files re-checks only what is new or what changed. A batch
that fails but whose exact content a person released from quarantine is accepted, its
failures reported as warnings naming the release (``monitoring.quarantine``).

Hashing the content means reading the whole file (seconds for a million rows), so a pass
also remembers the file's size and modification time: an unchanged file is recognised by
those alone and its content is not hashed again. When either differs, the content hash
decides, as before. A pass also keeps the parsed frame as Parquet next to its record, so a
recognised file is not parsed again either: a CSV month costs tens of milliseconds to parse,
its Parquet copy a few, and a model's history grows by one file per batch.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from base.settings import ModelConfig
    from monitoring.types import ValidationReport


@dataclass
class Intake:
    """One batch after intake: its frame (when readable) and its validation report."""

    path: Path
    frame: "pd.DataFrame | None"
    report: "ValidationReport"
    data_hash: str | None
    cached: bool
    recognised: bool = False  # known by size and modification time; content not hashed

    @property
    def accepted(self) -> bool:
        return self.report.success and (self.frame is not None or self.recognised)


def suite_fingerprint(suite_path: Path) -> str:
    """Hash of the suite file, so editing the suite invalidates earlier passes."""
    return hashlib.sha256(suite_path.read_bytes()).hexdigest()[:16]


def records_dir(config: "ModelConfig") -> Path:
    return config.validated_dir


def read_batch(
    path: Path, config: "ModelConfig", hashed: bool = True
) -> tuple["pd.DataFrame | None", "ValidationReport | None", str | None]:
    """Load a batch; an unreadable file becomes a failed report instead of an exception."""
    from monitoring.validation import report_load_error
    from training.data import DataError, frame_hash, load_batch

    try:
        frame = load_batch(path, config.data.timestamp_column)
    except DataError as err:
        return None, report_load_error(path, err), None
    return frame, None, frame_hash(frame) if hashed else None


def check_batch(path: Path, config: "ModelConfig", with_frame: bool = True, remember: bool = True) -> Intake:
    """Read and validate one batch, reusing an earlier pass of identical content.

    ``with_frame=False`` (a check that needs only the verdict) does not even read a file
    recognised by its size and modification time. ``remember=False`` (a dry run) still
    reads earlier passes but records none, so checking a batch leaves the home as it was.
    """
    suite = suite_fingerprint(config.suite_path)
    known = recognised_pass(path, config, suite)
    if known is not None:
        frame = read_known(path, config, known[0], remember) if with_frame else None
        if frame is not None or not with_frame:
            return Intake(path, frame, known[1], known[0], cached=True, recognised=True)
    return check_content(path, config, suite, remember)


def check_content(path: Path, config: "ModelConfig", suite: str, remember: bool = True) -> Intake:
    """The content hash decides: a record of the same content and suite, else a validation."""
    from monitoring.types import ValidationReport
    from monitoring.validation import validate_batch

    stamp = file_stamp(path)  # taken before reading, so a write during the read is noticed next time
    frame, failure, data_hash = read_batch(path, config)
    if failure is not None:
        return Intake(path, None, failure, None, cached=False)
    assert frame is not None and data_hash is not None  # read_batch gives both or a failure
    record = records_dir(config) / f"{data_hash}-{suite}.json"
    if record.is_file():
        report = ValidationReport.from_dict(json.loads(record.read_text()))
        if remember:
            remember_stamp(path, config, suite, stamp, data_hash)
        return Intake(path, frame, report, data_hash, cached=True)
    report = validate_batch(frame, config.suite_path, path.name)
    if not report.success:
        report = apply_release(config, data_hash, report)
    if report.success and remember:
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(report.to_dict(), indent=2, default=str))
        keep_frame(frame, config, data_hash)
        remember_stamp(path, config, suite, stamp, data_hash)
    return Intake(path, frame, report, data_hash, cached=False)


def apply_release(config: "ModelConfig", data_hash: str, report: "ValidationReport") -> "ValidationReport":
    """A person released this exact content from quarantine: its failures become warnings."""
    from monitoring.quarantine import accept_released
    from registry.ledger import open_ledger
    from registry.releases import find_release

    release = find_release(open_ledger(config.ledger_url), config.name, data_hash)
    return report if release is None else accept_released(report, release)


def frame_path(config: "ModelConfig", data_hash: str) -> Path:
    return records_dir(config) / "frames" / f"{data_hash}.parquet"


def keep_frame(frame: "pd.DataFrame", config: "ModelConfig", data_hash: str) -> None:
    """Keep the parsed frame of a passed batch; a frame Parquet cannot hold is simply not kept."""
    target = frame_path(config, data_hash)
    if target.is_file():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    try:
        frame.to_parquet(partial, index=False)
        os.replace(partial, target)  # readers never see a half-written file
    except (ValueError, TypeError, OSError, ImportError):  # pyarrow refuses some mixed-type columns
        partial.unlink(missing_ok=True)


def read_known(path: Path, config: "ModelConfig", data_hash: str, remember: bool = True) -> "pd.DataFrame | None":
    """The frame of a recognised batch: its kept Parquet copy when that still matches, else the file."""
    import pandas as pd

    from training.data import frame_hash

    kept = frame_path(config, data_hash)
    if kept.is_file():
        try:
            frame = pd.read_parquet(kept)
        except (OSError, ValueError):
            frame = None
        if frame is not None and frame_hash(frame) == data_hash:
            return frame
        if remember:
            kept.unlink(missing_ok=True)  # damaged or not the same content: replaced below
    frame = read_batch(path, config, hashed=False)[0]
    if frame is not None and remember:
        keep_frame(frame, config, data_hash)
    return frame


def file_stamp(path: Path) -> dict:
    """Size and modification time (ns) of the file: what says "unchanged" without reading it."""
    info = os.stat(path)
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns}


def stamp_path(path: Path, config: "ModelConfig", suite: str) -> Path:
    key = hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:16]
    return records_dir(config) / "stamps" / f"{key}-{suite}.json"


def remember_stamp(path: Path, config: "ModelConfig", suite: str, stamp: dict, data_hash: str) -> None:
    """Record that the file, as stamped, has content ``data_hash`` which passed ``suite``."""
    target = stamp_path(path, config, suite)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"path": str(Path(path).resolve()), **stamp, "data_hash": data_hash}))


def recognised_pass(path: Path, config: "ModelConfig", suite: str) -> "tuple[str, ValidationReport] | None":
    """(content hash, report) of an earlier pass when the file's stamp is unchanged, else None."""
    from monitoring.types import ValidationReport

    try:
        remembered = json.loads(stamp_path(path, config, suite).read_text())
        stamp = file_stamp(path)
        if {key: remembered.get(key) for key in stamp} != stamp:
            return None
        record = records_dir(config) / f"{remembered['data_hash']}-{suite}.json"
        return remembered["data_hash"], ValidationReport.from_dict(json.loads(record.read_text()))
    except (OSError, ValueError, KeyError):  # no stamp, no record, or an unreadable one: hash the content
        return None
