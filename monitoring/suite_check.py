"""Replay a suite over every batch a model already has, before the suite goes live.

A proposed suite is a guess; history is the test. ``check_suite`` validates each batch
(the ones the config's glob finds and, optionally, the quarantined ones) without moving
or recording anything, and says which expectations would fail where, so a person tunes
``mostly``, bounds and severities on their own data instead of learning it from a
quarantine in production.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

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


@dataclass(frozen=True)
class SeverityChange:
    """A rule of the suite that today's proposal, from the same batches, would mark otherwise."""

    expectation: str
    column: str | None
    current: str
    proposed: str
    note: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SuiteCheck:
    """Every batch's verdict, per expectation the batches where it fails, and severity changes."""

    suite: str
    batches: list[BatchVerdict] = field(default_factory=list)
    severity_changes: list[SeverityChange] = field(default_factory=list)

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
            "severity_changes": [c.to_dict() for c in self.severity_changes],
        }


def check_suite(config: "ModelConfig", suite_path: Path | None = None, quarantined: bool = True) -> SuiteCheck:
    """Validate every existing batch against the suite; nothing is moved or recorded."""
    suite_path = Path(suite_path or config.suite_path)
    result = SuiteCheck(suite=str(suite_path))
    readable, passing = [], []
    for path, from_quarantine in existing_batches(config, quarantined):
        report, frame = replay(path, config, suite_path)
        result.batches.append(BatchVerdict(path.name, str(path), from_quarantine, report))
        if frame is not None and not from_quarantine:
            readable.append(frame)
            passing += [frame] if report.success else []
    if readable:
        result.severity_changes = compare_with_proposal(suite_path, passing or readable, config)
    return result


def compare_with_proposal(suite_path: Path, frames: list, config: "ModelConfig") -> list[SeverityChange]:
    """Propose a suite, with the suite's own knobs, from the batches it lets in (all when none)."""
    import json

    import pandas as pd

    from monitoring.suites import propose_suite
    from monitoring.validation import read_suite

    _, items, _ = read_suite(suite_path)
    meta = json.loads(suite_path.read_text()).get("meta") or {}
    knobs = {k: meta[k] for k in ("range_pad", "range_mostly", "null_slack", "new_category_share") if k in meta}
    proposed = propose_suite(pd.concat(frames, ignore_index=True), config, **knobs)
    return severity_changes(items, proposed["expectations"])


def severity_changes(current: list[dict[str, Any]], proposed: list[dict[str, Any]]) -> list[SeverityChange]:
    """Rules matched by expectation type and column. Where a column has several of one type (a
    shift range and a gross-outlier range, a category set and its garbled-column set), the
    proposed rule nearest in what it allows: its limits, then its ``mostly``, same severity
    first on a tie. An old range at ``error`` is the statistical range, whatever its ``mostly``."""
    changes = []
    for item in current:
        kind, column = item["type"], item["kwargs"].get("column")
        level = str((item.get("meta") or {}).get("severity") or "error")
        peers = [p for p in proposed if (p["type"], p["kwargs"].get("column")) == (kind, column)]
        if not peers:
            continue
        best = min(peers, key=lambda p: (*rule_distance(item["kwargs"], p["kwargs"]), p["meta"]["severity"] != level))
        if best["meta"]["severity"] != level:
            changes.append(SeverityChange(kind, column, level, best["meta"]["severity"], best["meta"]["note"]))
    return changes


def rule_distance(current: dict[str, Any], proposed: dict[str, Any]) -> tuple[float, float]:
    """How far apart two rules' limits are (relative to the proposed span), then their ``mostly``."""
    mostly = abs(float(current.get("mostly", 1.0)) - float(proposed.get("mostly", 1.0)))
    low, high = proposed.get("min_value"), proposed.get("max_value")
    numeric = all(isinstance(v, (int, float)) or v is None for v in (low, high))
    span = float(high) - float(low) if numeric and low is not None and high is not None else 1.0
    limits = 0.0
    for key in ("min_value", "max_value"):
        a, b = current.get(key), proposed.get(key)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and numeric:
            limits += abs(float(a) - float(b)) / (abs(span) or 1.0)
        elif a != b:
            limits += 1.0
    return limits, mostly


def existing_batches(config: "ModelConfig", quarantined: bool) -> list[tuple[Path, bool]]:
    """The glob's batches in name order, then quarantined files (their reports are skipped)."""
    from monitoring.sources import list_batches
    from training.data import DataError

    try:
        found = [(path, False) for path in list_batches(config)]
    except DataError:  # nothing matches (yet): only the quarantine is replayed
        found = []
    folder = Path(config.quarantine_dir)
    if quarantined and folder.is_dir():
        found += [
            (p, True) for p in sorted(folder.iterdir()) if p.is_file() and not p.name.endswith((".report.json", ".tmp"))
        ]
    return found


def replay(path: Path, config: "ModelConfig", suite_path: Path) -> "tuple[ValidationReport, pd.DataFrame | None]":
    """Validate one file as intake would today; a load failure becomes an ``unreadable`` verdict."""
    from monitoring.validation import report_load_error, validate_batch
    from training.data import DataError, load_batch

    try:
        frame = load_batch(path, config.data.timestamp_column)
    except DataError as err:
        return report_load_error(path, err), None
    return validate_batch(frame, suite_path, path.name), frame


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
                "warnings": ", ".join(f.shared_label() for f in report.warnings),
            }
        )
    return rows


__all__ = [
    "BatchVerdict",
    "SeverityChange",
    "SuiteCheck",
    "check_suite",
    "existing_batches",
    "rule_distance",
    "severity_changes",
    "verdict_rows",
]
