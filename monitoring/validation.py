"""Validate batches against a Great Expectations suite and quarantine the ones that fail.

The only module that talks to GX: it runs a suite JSON file against a DataFrame in an
in-memory GX context (nothing written to disk) and turns GX's results into our own
``ValidationReport``, read by each result's expectation type and kwargs, never by position
(GX does not keep the suite's order). GX is imported on first use (light CLI paths).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from base.errors import Kind, RetrainError
from monitoring.gx_results import to_failure
from monitoring.suites import SEVERITIES, propose_suite, run_parameters, write_suite
from monitoring.types import ExpectationFailure, ValidationReport

__all__ = ["SuiteError", "propose_suite", "quarantine_batch", "report_load_error", "validate_batch", "write_suite"]

# Fields GX writes for an expectation; the ignored ones only matter to GX Cloud or renderers.
# GX's own ``severity`` field is ignored: ours lives in ``meta.severity`` (error | warn).
_USED_FIELDS = {"type", "kwargs", "meta", "notes", "description"}
_IGNORED_FIELDS = {"id", "severity", "rendered_content", "success_on_last_run", "expectation_context"}
_RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 5}
NOT_NULL = "expect_column_values_to_not_be_null"
IN_SET = "expect_column_values_to_be_in_set"
SHARE_RULES = (NOT_NULL, IN_SET)  # rules about how many rows may be so, not about each row

# One GX context per process (building it costs more than a small batch), locked: flows may use threads.
_LOCK = threading.Lock()
_GX: dict[str, Any] = {}
_DEFINITIONS: dict[str, Any] = {}  # suite file digest -> GX ValidationDefinition


class SuiteError(RetrainError):
    """A suite file that cannot be used; ``str()`` names the file and the problem."""

    kind = Kind.CONFIG

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}", file=self.path, field="validation.suite")


def validate_batch(df: pd.DataFrame, suite_path: Path, batch_name: str) -> ValidationReport:
    """Run the suite at ``suite_path`` on ``df``; failures name the expectation and column.

    Failed ``warn`` expectations land in ``warnings`` and leave the batch valid.
    """
    suite_path = Path(suite_path)
    name, items, digest = read_suite(suite_path)
    return validate_items(df, suite_path, name, items, digest, batch_name)


def validate_items(
    df: pd.DataFrame, suite_path: Path, name: str, items: list[dict[str, Any]], digest: str, batch_name: str
) -> ValidationReport:
    """GX on the expectations ``items`` (read from ``suite_path``, named in errors); ``digest`` keys GX's cache."""
    with _LOCK:
        definition = _definition_for(suite_path, items, digest)
        parameters = {"batch_parameters": {"dataframe": df}, "expectation_parameters": run_parameters()}
        outcome = definition.run(**parameters, result_format=_RESULT_FORMAT)
        _forget_stored_results()
    return build_report(df, name, items, list(outcome.results), batch_name)


def build_report(
    df: pd.DataFrame,
    name: str,
    items: list[dict[str, Any]],
    results: list[Any],
    batch_name: str,
    complete: bool = False,
) -> ValidationReport:
    """The report from the results, GX's or the fast path's (the same shape); ``complete``: one per item, in order."""
    columns = {str(column) for column in df.columns}
    found = [(_severity_of(r.expectation_config.meta), *judge_share(r, columns)) for r in results if not r.success]
    found += [] if complete else [(level, f, level) for level, f in _unanswered(items, results)]
    order = lambda f: (f.column is not None, str(f.column), f.expectation, f.details)  # noqa: E731
    failures = sorted((f for level, f, where in found if level == where == "error"), key=order)
    return ValidationReport(
        batch=batch_name,
        success=not failures,
        rows=len(df),
        evaluated=len(results),
        failures=failures,
        error=None,
        suite=name,
        warnings=sorted((f for level, f, where in found if where == "warn"), key=order),
        skipped=sorted((f for _, f, where in found if where == "skipped"), key=order),
    )


def judge_share(result: Any, columns: set[str]) -> tuple[ExpectationFailure, str]:
    """A failed result and where it goes: ``error``/``warn`` by its severity, except a share rule
    (``mostly`` < 1 on nulls or on values outside the known categories), judged by the batch's size
    (``training.shares``): not judged on too few rows (``skipped``), a ``warn`` when within sampling
    noise, an error only beyond it. One row with a new category is no evidence about a share; a
    value far outside any range seen is, at any size (range rules are per-row rules)."""
    from dataclasses import replace

    from training.shares import judge_at_most

    failure = to_failure(result, columns)
    level = _severity_of(result.expectation_config.meta)
    mostly = result.expectation_config.kwargs.get("mostly")
    rows, count = _judged_rows(result), failure.unexpected_count
    share_rule = result.expectation_config.type in SHARE_RULES and mostly is not None and float(mostly) < 1.0
    if level != "error" or not share_rule or rows is None or count is None:
        return failure, level
    verdict = judge_at_most(int(count), int(rows), 1.0 - float(mostly), _share_words(result, failure.column))
    failure = replace(failure, share_rule=True, details=f"{verdict.note}; {failure.details}")
    return failure, ("error" if verdict.failed else "warn" if verdict.judged else "skipped")


def _judged_rows(result: Any) -> int | None:
    """The rows a share is taken over: all of them for a null rule, the non-null ones otherwise (as GX counts)."""
    outcome = dict(result.result or {})
    rows = outcome.get("element_count")
    if rows is None or result.expectation_config.type == NOT_NULL:
        return rows
    return int(rows) - int(outcome.get("missing_count") or 0)


def _share_words(result: Any, column: str | None) -> str:
    if result.expectation_config.type == NOT_NULL:
        return f"nulls in {column}"
    return f"rows of {column} breaking {result.expectation_config.type}"


def _severity_of(meta: Any) -> str:
    """``meta.severity`` of an expectation; anything unset counts as ``error`` (blocks the batch)."""
    return str((meta or {}).get("severity") or "error")


def report_load_error(path: str | Path, error: BaseException | str, suite: str = "") -> ValidationReport:
    """A failed report for a batch that could not even be read (empty, corrupt, no timestamp)."""
    return ValidationReport(
        batch=Path(path).name, success=False, rows=0, evaluated=0, failures=[], error=str(error), suite=suite
    )


def quarantine_batch(path: Path, report: ValidationReport, quarantine_dir: Path) -> Path:
    """Move a bad batch out of the input folder and leave its report beside it.

    The report is written before the move, so a failure at any step leaves the batch
    file in one piece somewhere: a failed report write leaves it where it was (and a
    retry starts clean); a failed move removes the report and leaves the file in place.
    """
    path, quarantine_dir = Path(path), Path(quarantine_dir)
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    moved_at = datetime.now(UTC)
    target = _free_name(quarantine_dir, path.name, moved_at)
    report_path = target.with_name(target.name + ".report.json")
    record = report.to_dict() | {
        "quarantined_at": moved_at.isoformat(),
        "original_path": str(path.resolve()),
        "quarantined_path": str(target.resolve()),
    }
    _write_json(report_path, record)
    try:
        shutil.move(str(path), str(target))
    except BaseException:
        report_path.unlink(missing_ok=True)
        raise
    return target


def _write_json(path: Path, record: dict[str, Any]) -> None:
    """Write through a scratch file so a reader never sees half a report."""
    scratch = path.with_name(path.name + ".tmp")
    try:
        scratch.write_text(json.dumps(record, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
        os.replace(scratch, path)
    except BaseException:
        if scratch.is_file():
            scratch.unlink()
        raise


def _free_name(folder: Path, name: str, when: datetime) -> Path:
    """``name`` if unused, else ``stem.<UTC timestamp>[-n].suffix``: earlier quarantines are kept."""
    candidate = folder / name
    stamp = when.strftime("%Y%m%dT%H%M%S%fZ")
    stem, suffix = Path(name).stem, Path(name).suffix
    counter = 0
    while candidate.exists() or candidate.with_name(candidate.name + ".report.json").exists():
        counter += 1
        extra = f"-{counter}" if counter > 1 else ""
        candidate = folder / f"{stem}.{stamp}{extra}{suffix}"
    return candidate


def read_suite(path: Path) -> tuple[str, list[dict[str, Any]], str]:
    """Check the suite file's shape without GX, so errors name the file and the item."""
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise SuiteError(path, f"cannot read the suite file ({exc.strerror or exc})") from None
    try:
        raw = json.loads(raw_bytes)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise SuiteError(path, f"not valid JSON{where}: {getattr(exc, 'msg', exc)}") from None
    if not isinstance(raw, dict):
        raise SuiteError(path, "expected a JSON object with 'name' and 'expectations'")
    name, items = raw.get("name"), raw.get("expectations")
    if not isinstance(name, str) or not name.strip():
        raise SuiteError(path, "'name' must be a non-empty string")
    if not isinstance(items, list) or not items:
        raise SuiteError(path, "'expectations' must be a non-empty list")
    for index, item in enumerate(items):
        _check_item(path, index, item)
    return name, items, hashlib.sha256(raw_bytes).hexdigest()


def _check_item(path: Path, index: int, item: Any) -> None:
    where = f"expectations[{index}]"
    if not isinstance(item, dict):
        raise SuiteError(path, f"{where}: expected an object with 'type' and 'kwargs'")
    unknown = set(item) - _USED_FIELDS - _IGNORED_FIELDS
    if unknown:
        raise SuiteError(path, f"{where}: unknown field(s) {sorted(unknown)}; expected type, kwargs, meta")
    if not isinstance(item.get("type"), str) or not item["type"].startswith("expect_"):
        raise SuiteError(path, f"{where}: 'type' must name an expectation, such as expect_column_to_exist")
    if not isinstance(item.get("kwargs"), dict):
        raise SuiteError(path, f"{where} ({item['type']}): 'kwargs' must be an object")
    unknown = _parameters_in(item["kwargs"]) - set(run_parameters())
    if unknown:
        raise SuiteError(
            path,
            f"{where} ({item['type']}): unknown suite parameter(s) {sorted(unknown)}; "
            f"Retrain sets {sorted(run_parameters())}",
        )
    meta = item.get("meta") or {}
    if not isinstance(meta, dict) or _severity_of(meta) not in SEVERITIES:
        raise SuiteError(path, f"{where} ({item['type']}): meta.severity must be one of {list(SEVERITIES)}")


def _parameters_in(kwargs: dict[str, Any]) -> set[str]:
    """Names used as ``{"$PARAMETER": name}``: GX fails late and vaguely on one nobody sets."""
    return {str(v["$PARAMETER"]) for v in kwargs.values() if isinstance(v, dict) and "$PARAMETER" in v}


def _context() -> tuple[Any, Any]:
    """The process-wide ephemeral GX context and its whole-dataframe batch definition."""
    if not _GX:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        asset = context.data_sources.add_pandas("retrain").add_dataframe_asset("batch")
        _GX["batch_definition"] = asset.add_batch_definition_whole_dataframe("whole")
        _GX["context"] = context
    return _GX["context"], _GX["batch_definition"]


def _definition_for(path: Path, items: list[dict[str, Any]], digest: str) -> Any:
    """Build (once per distinct suite content) the GX suite and validation definition."""
    if digest in _DEFINITIONS:
        return _DEFINITIONS[digest]
    import great_expectations as gx

    context, batch_definition = _context()
    expectations = [build_expectation(path, index, item) for index, item in enumerate(items)]
    key = f"suite-{digest[:16]}"
    suite = context.suites.add(gx.ExpectationSuite(name=key, expectations=expectations))
    definition = gx.ValidationDefinition(name=key, data=batch_definition, suite=suite)
    _DEFINITIONS[digest] = context.validation_definitions.add(definition)
    return _DEFINITIONS[digest]


def build_expectation(path: Path, index: int, item: dict[str, Any]) -> Any:
    from great_expectations.compatibility.pydantic import ValidationError
    from great_expectations.exceptions import ExpectationNotFoundError, InvalidExpectationConfigurationError
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    kind = item["type"]
    fields = {key: item[key] for key in _USED_FIELDS if key in item}
    try:
        return ExpectationConfiguration(**fields).to_domain_obj()
    except ExpectationNotFoundError:
        raise SuiteError(path, f"expectations[{index}]: unknown expectation type {kind!r}") from None
    except (ValidationError, InvalidExpectationConfigurationError, TypeError, ValueError) as exc:
        problem = " ".join(str(exc).split())[:300]
        raise SuiteError(path, f"expectations[{index}] ({kind}): invalid kwargs: {problem}") from None


def _forget_stored_results() -> None:
    """Drop results GX keeps in memory after each run; a long-lived process would grow."""
    store = _GX["context"].validation_results_store
    for key in store.list_keys():
        store.remove_key(key)


def _unanswered(items: list[dict[str, Any]], results: list[Any]) -> list[tuple[str, ExpectationFailure]]:
    """Expectations GX returned no result for; a silent skip must not look like a pass."""
    key = lambda kind, kwargs, meta: (kind, kwargs.get("column"), _severity_of(meta))  # noqa: E731
    asked = Counter(key(item["type"], item["kwargs"], item.get("meta")) for item in items)
    answered = Counter(
        key(r.expectation_config.type, r.expectation_config.kwargs, r.expectation_config.meta) for r in results
    )
    missing = asked - answered
    return [
        (level, ExpectationFailure(kind, column, None, None, "no result was returned for this expectation"))
        for (kind, column, level), times in sorted(missing.items(), key=str)
        for _ in range(times)
    ]
