"""Batch intake: read a batch file and decide whether it may be trusted.

Every batch is validated before it is used. A batch whose exact content already passed
the suite is not validated again (the record is keyed by content hash *and* suite hash),
so a retrain over twelve monthly files re-checks only what is new or what changed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from monitoring.types import ValidationReport
    from base.settings import ModelConfig


@dataclass
class Intake:
    """One batch after intake: its frame (when readable) and its validation report."""

    path: Path
    frame: "pd.DataFrame | None"
    report: "ValidationReport"
    data_hash: str | None
    cached: bool

    @property
    def accepted(self) -> bool:
        return self.report.success and self.frame is not None


def suite_fingerprint(suite_path: Path) -> str:
    """Hash of the suite file, so editing the suite invalidates earlier passes."""
    return hashlib.sha256(suite_path.read_bytes()).hexdigest()[:16]


def records_dir(config: "ModelConfig") -> Path:
    return config.validated_dir


def read_batch(path: Path, config: "ModelConfig") -> tuple["pd.DataFrame | None", "ValidationReport | None", str | None]:
    """Load a batch; an unreadable file becomes a failed report instead of an exception."""
    from monitoring.validation import report_load_error
    from training.data import DataError, frame_hash, load_batch

    try:
        frame = load_batch(path, config.data.timestamp_column)
    except DataError as err:
        return None, report_load_error(path, err), None
    return frame, None, frame_hash(frame)


def check_batch(path: Path, config: "ModelConfig") -> Intake:
    """Read and validate one batch, reusing an earlier pass of identical content."""
    from monitoring.types import ValidationReport
    from monitoring.validation import validate_batch

    frame, failure, data_hash = read_batch(path, config)
    if failure is not None:
        return Intake(path, None, failure, None, cached=False)
    record = records_dir(config) / f"{data_hash}-{suite_fingerprint(config.suite_path)}.json"
    if record.is_file():
        report = ValidationReport.from_dict(json.loads(record.read_text()))
        return Intake(path, frame, report, data_hash, cached=True)
    report = validate_batch(frame, config.suite_path, path.name)
    if report.success:
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(report.to_dict(), indent=2, default=str))
    return Intake(path, frame, report, data_hash, cached=False)
