"""Typed results of the monitoring package.

Flows, the CLI and the quarantine reports consume these instead of library result
objects, so a Great Expectations upgrade changes one adapter, not every caller.
All fields are plain Python values so ``to_dict()`` is always JSON-serialisable.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

_SUMMARY_LIMIT = 5


@dataclass(frozen=True)
class ExpectationFailure:
    """One expectation that did not hold (or could not be evaluated) on a batch."""

    expectation: str
    column: str | None
    unexpected_count: int | None
    unexpected_percent: float | None
    details: str
    share_rule: bool = False  # a rule about the share of rows (mostly < 1): judged by batch size

    def label(self) -> str:
        """Short form for one-line summaries, e.g. ``expect_column_to_exist(dep_time)``."""
        return f"{self.expectation}({self.column})" if self.column else self.expectation

    def rows_concerned(self) -> str:
        """``12 rows (3.25%)``: how much of the batch a rule is about, empty when unknown."""
        if self.unexpected_count is None:
            return ""
        share = f" ({self.unexpected_percent:.2f}%)" if self.unexpected_percent is not None else ""
        return f"{self.unexpected_count} rows{share}"

    def shared_label(self) -> str:
        """The label with the share of rows concerned: a warning is read by how much it covers."""
        concerned = self.rows_concerned()
        return f"{self.label()} on {concerned}" if concerned else self.label()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ValidationReport:
    """The verdict on one batch: passed, failed expectations, or could not be read."""

    batch: str
    success: bool
    rows: int
    evaluated: int
    failures: list[ExpectationFailure] = field(default_factory=list)
    error: str | None = None
    suite: str = ""
    warnings: list[ExpectationFailure] = field(default_factory=list)  # failed ``warn`` expectations
    skipped: list[ExpectationFailure] = field(default_factory=list)  # share rules not judged: too few rows

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ValidationReport":
        """Rebuild a report saved with ``to_dict`` (extra keys, such as quarantine notes, are ignored)."""

        def read(key: str) -> list[ExpectationFailure]:
            names = [item.name for item in fields(ExpectationFailure)]
            return [ExpectationFailure(**{n: f[n] for n in names if n in f}) for f in data.get(key) or []]

        failures, warnings = read("failures"), read("warnings")
        return cls(
            batch=str(data["batch"]),
            success=bool(data["success"]),
            rows=int(data.get("rows") or 0),
            evaluated=int(data.get("evaluated") or 0),
            failures=failures,
            error=data.get("error"),
            suite=str(data.get("suite") or ""),
            warnings=warnings,
            skipped=read("skipped"),
        )

    def summary(self) -> str:
        """One line a person can act on without opening the JSON report."""
        if self.error is not None:
            return f"ERROR {self.batch}: {self.error}"
        skipped = f"; {len(self.skipped)} share rule(s) not judged on {self.rows} rows" if self.skipped else ""
        if self.success:
            passed = (
                f"PASSED {self.evaluated - len(self.warnings)} of {self.evaluated} expectations on {self.rows} rows"
            )
            shares = _labels(self.warnings, shares=True)
            warned = f"; {len(self.warnings)} warning(s): {shares}" if self.warnings else ""
            return passed + warned + skipped
        return f"FAILED {len(self.failures)} of {self.evaluated} expectations: {_labels(self.failures)}{skipped}"


def _labels(items: list[ExpectationFailure], shares: bool = False) -> str:
    labels = [item.shared_label() if shares else item.label() for item in items[:_SUMMARY_LIMIT]]
    more = len(items) - len(labels)
    return ", ".join(labels) + (f" and {more} more" if more > 0 else "")
