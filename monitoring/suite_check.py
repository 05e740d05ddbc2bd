"""Replay a suite over every batch a model already has, before the suite goes live.

A proposed suite is a guess; history is the test. ``check_suite`` validates each batch
(the ones the config's glob finds and, optionally, the quarantined ones) without moving
or recording anything, and says which expectations would fail where, so a person tunes
``mostly``, bounds and severities on their own data instead of learning it from a
quarantine in production.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from base.settings import ModelConfig
    from monitoring.types import ValidationReport


@dataclass(frozen=True)
class BatchVerdict:
    """One batch replayed: would it pass, and what failed (errors) or warned."""

    batch: str
    path: str
    quarantined: bool
    report: "ValidationReport"

    @property
    def verdict(self) -> str:
        if self.report.error is not None:
            return "unreadable"
        return "passes" if self.report.success else "quarantined"

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch": self.batch,
            "path": self.path,
            "from_quarantine": self.quarantined,
            "verdict": self.verdict,
            "report": self.report.to_dict(),
        }


@dataclass
class SuiteCheck:
    """Every batch's verdict and, per expectation, the batches where it fails."""

    suite: str
    batches: list[BatchVerdict] = field(default_factory=list)

    @property
    def would_quarantine(self) -> int:
        return sum(b.verdict != "passes" for b in self.batches)

    def by_expectation(self) -> list[dict[str, Any]]:
        """Expectations that fail somewhere, most often first: where tuning pays most."""
        found: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for item in self.batches:
            for severity, failures in (("error", item.report.failures), ("warn", item.report.warnings)):
                for f in failures:
                    found.setdefault((f.expectation, str(f.column or ""), severity), []).append(
                        {"batch": item.batch, "unexpected_percent": f.unexpected_percent, "details": f.details}
                    )
        rows = [
            {"expectation": kind, "column": column or None, "severity": severity, "batches": hits}
            for (kind, column, severity), hits in found.items()
        ]
        return sorted(rows, key=lambda r: (r["severity"] != "error", -len(r["batches"]), r["expectation"]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "batches": [b.to_dict() for b in self.batches],
            "expectations": self.by_expectation(),
            "totals": {"batches": len(self.batches), "would_quarantine": self.would_quarantine},
        }


def check_suite(config: "ModelConfig", suite_path: Path | None = None, quarantined: bool = True) -> SuiteCheck:
    """Validate every existing batch against the suite; nothing is moved or recorded."""
    suite_path = Path(suite_path or config.suite_path)
    result = SuiteCheck(suite=str(suite_path))
    for path, from_quarantine in existing_batches(config, quarantined):
        result.batches.append(BatchVerdict(path.name, str(path), from_quarantine, replay(path, config, suite_path)))
    return result


def existing_batches(config: "ModelConfig", quarantined: bool) -> list[tuple[Path, bool]]:
    """The glob's batches in name order, then quarantined files (their reports are skipped)."""
    import glob

    found = [(Path(p), False) for p in sorted(glob.glob(config.data_glob, recursive=True)) if Path(p).is_file()]
    folder = Path(config.quarantine_dir)
    if quarantined and folder.is_dir():
        found += [
            (p, True) for p in sorted(folder.iterdir()) if p.is_file() and not p.name.endswith((".report.json", ".tmp"))
        ]
    return found


def replay(path: Path, config: "ModelConfig", suite_path: Path) -> "ValidationReport":
    """Validate one file as intake would today; a load failure becomes an ``unreadable`` verdict."""
    from monitoring.validation import report_load_error, validate_batch
    from training.data import DataError, load_batch

    try:
        frame = load_batch(path, config.data.timestamp_column)
    except DataError as err:
        return report_load_error(path, err)
    return validate_batch(frame, suite_path, path.name)


def verdict_rows(check: SuiteCheck) -> list[dict[str, Any]]:
    """One line per batch for a table: verdict, what would quarantine it, what only warns."""
    rows = []
    for item in check.batches:
        report = item.report
        errors = report.error or ", ".join(f.label() for f in report.failures)
        rows.append(
            {
                "batch": item.batch + (" (quarantine)" if item.quarantined else ""),
                "rows": report.rows,
                "verdict": item.verdict,
                "errors": errors,
                "warnings": ", ".join(f.label() for f in report.warnings),
            }
        )
    return rows


__all__ = ["BatchVerdict", "SuiteCheck", "check_suite", "existing_batches", "verdict_rows"]
