"""Widen a suite to admit exactly what a released batch failed on, and keep the old version.

A person who releases a quarantined batch "because the world changed" usually means the
suite is wrong from now on: the new category exists, the wider range is real. Widening
changes only the ``error`` rules the batch failed (and their ``warn`` companions on the same
column, which would otherwise warn about the admitted values on every run), and only as far
as the batch needs: the
new values join the category set, the range reaches the batch's observed minimum and
maximum, the null share allowed becomes the batch's, an integer column that arrives as
floats admits floats, a changed column set asks only for the columns both share. What
cannot be widened (a missing column the model reads, a number arriving as text) is said,
and the release falls back to accepting that batch's content only.

The file the config names stays the current suite (the config is not edited); the version
it replaces is kept beside it as ``<stem>.v<N>.json``, and ``meta.versions`` records who
widened it, when, why and what changed.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from monitoring.suite_rules import type_list
from monitoring.suites import write_suite
from monitoring.types import ExpectationFailure


@dataclass(frozen=True)
class Widening:
    """What the widening did: the new version, each change, and what it could not widen."""

    version: int
    previous: str | None
    changes: tuple[str, ...]
    not_widened: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "previous": self.previous,
            "changes": list(self.changes),
            "not_widened": list(self.not_widened),
        }


def widen_suite(
    suite_path: Path, frame: pd.DataFrame, failures: list[ExpectationFailure], who: dict[str, str]
) -> Widening:
    """Widen the failed ``error`` rules of the suite at ``suite_path`` to admit ``frame``."""
    raw = json.loads(Path(suite_path).read_text())
    changes, missed = [], []
    for failure in failures:
        rules = [r for r in raw["expectations"] if _matches(r, failure)]
        done = [text for r in rules if _severity(r) == "error" and (text := widen_rule(r, frame)) is not None]
        if not done:
            missed.append(f"{failure.label()}: cannot be widened to admit this batch")
            continue
        # its warn companion (same rule, tighter) would warn about the admitted values on every run
        changes += done + [text for r in rules if _severity(r) != "error" and (text := widen_rule(r, frame))]
    if not changes:
        return Widening(current_version(raw), None, (), tuple(missed))
    return Widening(*keep_and_write(Path(suite_path), raw, changes, who), tuple(changes), tuple(missed))


def current_version(raw: dict[str, Any]) -> int:
    return int((raw.get("meta") or {}).get("version") or 1)


def keep_and_write(path: Path, raw: dict[str, Any], changes: list[str], who: dict[str, str]) -> tuple[int, str]:
    """Copy the current file to ``<stem>.v<N>.json`` (never over an existing one), then write N+1."""
    version = current_version(raw)
    previous = path.with_name(f"{path.stem}.v{version}.json")
    if not previous.exists():
        shutil.copyfile(path, previous)
    meta = dict(raw.get("meta") or {})
    history = list(meta.get("versions") or [])
    at = datetime.now(UTC).isoformat(timespec="seconds")
    history.append({"version": version + 1, "previous": previous.name, "at": at, "changes": changes, **who})
    raw["meta"] = meta | {"version": version + 1, "versions": history}
    write_suite(raw, path, overwrite=True)
    return version + 1, previous.name


def _matches(rule: dict[str, Any], failure: ExpectationFailure) -> bool:
    return (rule["type"], rule["kwargs"].get("column")) == (failure.expectation, failure.column)


def _severity(rule: dict[str, Any]) -> str:
    return str((rule.get("meta") or {}).get("severity") or "error")


def widen_rule(rule: dict[str, Any], frame: pd.DataFrame) -> str | None:
    """Change one rule in place so the batch passes it; a sentence saying how, or None."""
    kind, kwargs = rule["type"], rule["kwargs"]
    if kind == "expect_table_columns_to_match_set":
        return _widen_columns(kwargs, [str(c) for c in frame.columns])
    column = kwargs.get("column")
    if column is None or column not in frame.columns:
        return None
    values = frame[column].dropna()
    if kind == "expect_column_values_to_be_in_set":
        return _widen_set(kwargs, values)
    if kind == "expect_column_values_to_be_between":
        return _widen_range(kwargs, values)
    if kind == "expect_column_values_to_be_in_type_list":
        return _widen_types(kwargs, frame[column])
    if kind == "expect_column_values_to_not_be_null":
        share = float(frame[column].notna().mean())
        mostly = math.floor(share * 10_000) / 10_000
        if mostly >= float(kwargs.get("mostly", 1.0)):
            return None
        kwargs["mostly"] = mostly
        return f"{column}: nulls allowed in up to {1 - mostly:.2%} of rows"
    return None


def _widen_set(kwargs: dict[str, Any], values: pd.Series) -> str | None:
    known = list(kwargs["value_set"])
    new = sorted({v for v in values.tolist() if v not in set(known)}, key=str)
    if not new or not all(isinstance(v, (str, int, float, bool)) for v in new):
        return None
    kwargs["value_set"] = known + new
    return f"{kwargs['column']}: admits {', '.join(map(repr, new[:10]))}" + (" and more" if len(new) > 10 else "")


def _widen_range(kwargs: dict[str, Any], values: pd.Series) -> str | None:
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    numbers = numbers[np.isfinite(numbers)]
    if numbers.size == 0:
        return None
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    said = []
    if isinstance(low, (int, float)) and numbers.min() < low:
        kwargs["min_value"] = _plain(numbers.min())
        said.append(f"min {low:g} → {kwargs['min_value']:g}")
    if isinstance(high, (int, float)) and numbers.max() > high:
        kwargs["max_value"] = _plain(numbers.max())
        said.append(f"max {high:g} → {kwargs['max_value']:g}")
    return f"{kwargs['column']}: range {', '.join(said)}" if said else None


def _widen_columns(kwargs: dict[str, Any], columns: list[str]) -> str | None:
    """Ask only for the columns the suite and the batch share; either may carry more."""
    expected = [str(c) for c in kwargs.get("column_set") or []]
    shared = [c for c in expected if c in columns]
    if not shared:
        return None
    dropped, added = sorted(set(expected) - set(columns)), sorted(set(columns) - set(expected))
    kwargs["column_set"], kwargs["exact_match"] = shared, False
    said = [f"no longer requires {', '.join(dropped)}"] if dropped else []
    said += [f"admits the added {', '.join(added)}"] if added else []
    return "columns: " + ("; ".join(said) or "other columns admitted")


def _widen_types(kwargs: dict[str, Any], series: pd.Series) -> str | None:
    """Numbers stay numbers: an integer column that arrives as floats (a null appeared) admits floats."""
    known, seen = list(kwargs.get("type_list") or []), type_list(series) or []
    if not seen or not (_numeric(known) and _numeric(seen) and not pd.api.types.is_bool_dtype(series.dtype)):
        return None
    added = [t for t in seen if t not in known]
    if not added:
        return None
    kwargs["type_list"] = known + added
    return f"{kwargs['column']}: types admit {series.dtype}"


def _numeric(names: list[str]) -> bool:
    return bool(names) and all(n.lower().startswith(("int", "uint", "float")) or n == "float" for n in names)


def _plain(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)
