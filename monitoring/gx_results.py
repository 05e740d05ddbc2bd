"""Turn one Great Expectations result into our ``ExpectationFailure`` with a readable reason.

Kept apart from the validator so the GX result format (observed values, mismatched
columns, unexpected counts) is read in one place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitoring.types import ExpectationFailure

_HIDDEN_KWARGS = {"column", "batch_id", "result_format", "catch_exceptions"}


def to_failure(result: Any, columns: set[str]) -> ExpectationFailure:
    """What failed, on which column, how many rows, and what was expected."""
    config = result.expectation_config
    kind, kwargs = config.type, dict(config.kwargs)
    column = kwargs.get("column")
    if column is not None and str(column) not in columns:
        return ExpectationFailure(kind, column, None, None, f"column {column!r} is missing from the batch")
    problem = _exception_message(result.exception_info)
    if problem is not None:
        return ExpectationFailure(kind, column, None, None, f"could not be evaluated: {problem}")
    outcome = dict(result.result or {})
    count, percent = outcome.get("unexpected_count"), outcome.get("unexpected_percent")
    return ExpectationFailure(
        expectation=kind,
        column=column,
        unexpected_count=None if count is None else int(count),
        unexpected_percent=None if percent is None else round(float(percent), 4),
        details=_describe(kind, kwargs, outcome),
    )


def _exception_message(info: Any) -> str | None:
    """GX reports either one flat exception record or one record per failed metric."""
    if not isinstance(info, dict):
        return None
    records = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    for record in records:
        if record.get("raised_exception"):
            return str(record.get("exception_message") or "unknown error")
    return None


def _describe(kind: str, kwargs: dict[str, Any], outcome: dict[str, Any]) -> str:
    mismatch = (outcome.get("details") or {}).get("mismatched")
    if isinstance(mismatch, dict):
        missing, extra = mismatch.get("missing") or [], mismatch.get("unexpected") or []
        return f"missing columns: {_names(missing)}; unexpected columns: {_names(extra)}"
    expected = _expected(kwargs)
    if "unexpected_count" in outcome:
        count, total = outcome["unexpected_count"], outcome.get("element_count")
        share = f"{count} of {total} rows ({float(outcome.get('unexpected_percent') or 0):.2f}%)"
        if kind == "expect_column_values_to_not_be_null":
            return f"{share} are null; expected {expected}"
        distinct = dict.fromkeys(_show(v)[:40] for v in outcome.get("partial_unexpected_list") or [])
        examples = ", ".join(list(distinct)[:5])
        return f"{share} unexpected, e.g. {examples}; expected {expected}"
    if "observed_value" in outcome:
        return f"observed {outcome['observed_value']!r}; expected {expected}"
    return f"expected {expected}"


def _expected(kwargs: dict[str, Any]) -> str:
    parts = []
    for key, value in kwargs.items():
        if key in _HIDDEN_KWARGS:
            continue
        text = _show(value)
        if isinstance(value, (list, tuple, set)) and len(value) > 8:
            text = f"{len(value)} values such as {list(value)[:3]!r}"
        parts.append(f"{key}={text}")
    return ", ".join(parts) or "(no arguments)"


def _show(value: Any) -> str:
    """Dates as ISO text (what a person compares), everything else as its repr."""
    return value.isoformat() if isinstance(value, datetime) else repr(value)


def _names(values: list[Any]) -> str:
    return ", ".join(str(v) for v in values) or "none"
