"""The quarantine a person can read and release: list, show, and put a batch back.

``retrain run`` moves a batch that fails validation to ``<home>/quarantine/<model>/`` with a
``.report.json`` beside it. Releasing puts the file back where it came from, records the
release in the ledger (who, why, the batch's content hash, the rules it failed) and,
optionally, widens the suite to admit exactly what failed (``monitoring.suite_widen``).
The next run validates the batch again: a widened suite passes it, and whatever still
fails is accepted for that exact content, reported as a warning naming the release. Nothing
here imports Prefect; the CLI and the ``quarantine-release`` deployment call it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from base.errors import Kind, RetrainError
from monitoring.types import ExpectationFailure, ValidationReport

if TYPE_CHECKING:
    from base.settings import ModelConfig
    from registry.releases import Release

REPORT_SUFFIX = ".report.json"
_REPEAT_STAMP = re.compile(r"\.\d{8}T\d{6,12}Z(-\d+)?(?=\.[^.]+$)")  # monitoring.validation._free_name


class QuarantineError(RetrainError):
    """A release that cannot be done; nothing was moved or recorded."""

    kind = Kind.USAGE


@dataclass(frozen=True)
class Quarantined:
    """One quarantined batch file and its report."""

    name: str
    path: Path
    original_path: Path | None
    quarantined_at: str
    report: ValidationReport

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch": self.name,
            "path": str(self.path),
            "original_path": str(self.original_path) if self.original_path else None,
            "quarantined_at": self.quarantined_at,
            "rows": self.report.rows,
            "summary": self.report.summary(),
            "report": self.report.to_dict(),
        }


def list_quarantined(folder: Path) -> list[Quarantined]:
    """Every batch in a model's quarantine folder, oldest first; a report without its file is skipped."""
    folder = Path(folder)
    found = []
    for report_path in sorted(folder.glob(f"*{REPORT_SUFFIX}")) if folder.is_dir() else []:
        batch = report_path.with_name(report_path.name.removesuffix(REPORT_SUFFIX))
        if batch.is_file():
            found.append(read_quarantined(batch, report_path))
    return sorted(found, key=lambda q: (q.quarantined_at, q.name))


def read_quarantined(batch: Path, report_path: Path) -> Quarantined:
    record = json.loads(report_path.read_text())
    original = record.get("original_path")
    return Quarantined(
        name=batch.name,
        path=batch,
        original_path=Path(original) if original else None,
        quarantined_at=str(record.get("quarantined_at") or ""),
        report=ValidationReport.from_dict(record),
    )


def find_quarantined(folder: Path, model: str, batch: str) -> Quarantined:
    """The quarantined batch named ``batch``; the error lists what is there."""
    found = list_quarantined(folder)
    for item in found:
        if item.name == batch:
            return item
    names = ", ".join(q.name for q in found) or "nothing"
    raise QuarantineError(f"no quarantined batch {batch!r} for model {model!r} in {folder}; quarantined: {names}")


@dataclass(frozen=True)
class ReleaseResult:
    """What a release did: where the file went, the ledger record, and the suite widening."""

    batch: str
    restored_to: str
    release: "Release"
    widening: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch": self.batch,
            "restored_to": self.restored_to,
            "release": self.release.to_dict(),
            "widening": self.widening,
        }


def release_batch(config: "ModelConfig", batch: str, reason: str, actor: str, widen: bool = False) -> ReleaseResult:
    """Put a quarantined batch back for the next run; record who and why; optionally widen the suite."""
    from registry.ledger import open_ledger
    from registry.releases import new_release, record_release
    from training.data import DataError, frame_hash, load_batch

    if not reason.strip():
        raise QuarantineError("a release needs a reason (--reason): it is recorded in the model's history")
    item = find_quarantined(config.quarantine_dir, config.name, batch)
    refuse_untrainable(item)
    target = item.original_path or Path(config.data_glob).parent / original_name(item.name)
    if target.exists():
        raise QuarantineError(f"{target} exists already; move it away or rename it, then release {batch!r} again")
    try:
        frame = load_batch(item.path, config.data.timestamp_column)
    except DataError as err:
        raise QuarantineError(f"{item.path}: cannot be read, so it cannot be released: {err}") from None
    failures = tuple(f.label() for f in item.report.failures) + ((item.report.error,) if item.report.error else ())
    suite_before = config.suite_path.read_bytes() if widen else None
    widening = widen_for(config, item, frame, reason, actor) if widen else None
    release = new_release(
        config.name,
        item.name,
        frame_hash(frame),
        reason,
        actor,
        widening is not None and bool(widening["changes"]),
        suite_version=widening["version"] if widening else None,
        failures=failures,
    )
    try:
        record_release(open_ledger(config.ledger_url), release)
    except BaseException:
        undo_widening(config.suite_path, suite_before, widening)
        raise
    restore(item, target)
    return ReleaseResult(item.name, str(target), release, widening)


def release_hint(config: "ModelConfig", reports: list[ValidationReport], moved: list[str]) -> str:
    """The one line a run that quarantined prints: the command that lets a batch back in."""
    from monitoring.timestamps import CHECK

    where = f"--config {config.config_path}"
    pairs = zip(reports, moved, strict=True)
    releasable = [Path(m).name for r, m in pairs if all(f.expectation != CHECK for f in r.failures)]
    if not releasable:
        return f"correct the timestamps and put the files back (retrain quarantine show {config.name} BATCH {where})"
    hint = f"to train on one anyway: retrain quarantine release {config.name} {releasable[0]} --reason '...' {where}"
    return hint + (f"; all: retrain quarantine list {config.name} {where}" if len(moved) > 1 else "")


def refuse_untrainable(item: Quarantined) -> None:
    """Timestamps that cannot be true would break the time split again: no release lets them in."""
    from monitoring.timestamps import CHECK

    if any(f.expectation == CHECK for f in item.report.failures):
        raise QuarantineError(
            f"{item.name}: its timestamps cannot be true ({item.report.summary()}); the time split cannot "
            "train on it, so it cannot be released: correct the timestamps and put the file back instead"
        )


def widen_for(config: "ModelConfig", item: Quarantined, frame: Any, reason: str, actor: str) -> dict[str, Any]:
    from monitoring.suite_widen import widen_suite

    who = {"by": actor, "reason": reason, "batch": item.name}
    return widen_suite(config.suite_path, frame, item.report.failures, who).to_dict()


def undo_widening(suite_path: Path, before: bytes | None, widening: dict[str, Any] | None) -> None:
    """The ledger refused the record: the suite goes back to what it was, so nothing changed."""
    if before is None or not widening or not widening["changes"]:
        return
    suite_path.write_bytes(before)
    kept = suite_path.with_name(widening["previous"])
    if kept.is_file() and kept.read_bytes() == before:
        kept.unlink()


def restore(item: Quarantined, target: Path) -> None:
    """Move the file back, then keep its report under ``released/`` (the quarantine lists only what is held)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(item.path), str(target))
    kept = item.path.parent / "released"
    kept.mkdir(exist_ok=True)
    report = item.path.with_name(item.path.name + REPORT_SUFFIX)
    os.replace(report, kept / report.name)


def original_name(name: str) -> str:
    """``m07.20261205T101010123456Z.csv`` (a repeat quarantine) came in as ``m07.csv``; dots of its own stay."""
    return _REPEAT_STAMP.sub("", name)


def accept_released(report: ValidationReport, release: "Release") -> ValidationReport:
    """A failed report of released content: the failures the person saw become warnings naming the release.

    A release covers the rules the batch had failed when it was released. A rule it fails
    only now (the suite was tightened since) was never looked at, so the batch still fails
    on it, and the report says which release did not cover it.
    """
    note = f"released by {release.actor or 'someone'} at {release.created_at:%Y-%m-%d %H:%M}Z: {release.reason}"
    seen = set(release.failures)
    uncovered = [f for f in report.failures if seen and f.label() not in seen]
    if uncovered:
        said = ", ".join(f.label() for f in uncovered)
        missed = ExpectationFailure("released_from_quarantine", None, None, None, f"{note}; does not cover {said}")
        return replace(report, warnings=[*report.warnings, missed])
    warnings = [replace(f, details=f"{note}; {f.details}") for f in report.failures]
    accepted = [ExpectationFailure("released_from_quarantine", None, None, None, note)]
    return replace(report, success=True, failures=[], warnings=[*report.warnings, *warnings, *accepted])
