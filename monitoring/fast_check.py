"""Validate the rows about to be scored with the suite evaluated in pandas, GX where it must.

Scoring checks every request and every batch with the model's suite; Great Expectations costs
about a second a call whatever the row count, which an HTTP request of one row cannot afford.
``validate_rows`` evaluates each expectation with ``monitoring.fast_rules`` (the same counts,
``mostly`` arithmetic and result fields as GX's pandas engine) and builds the report with the
same code as the GX path (``validation.build_report``), so the verdict, the failed rules and
their messages are GX's. GX still parses each suite once (its typing of the arguments is what
the messages show), and it judges whatever is not mirrored: a suite with an expectation type
or argument ``fast_rules`` does not know (said once in the log) and a batch on which a
comparison would raise inside GX. Retrains keep GX throughout (``validation.validate_batch``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from monitoring.fast_rules import Column, RuleConfig, Unsure, evaluate, unknown_rules
from monitoring.types import ValidationReport

LOG = logging.getLogger(__name__)
_LOCK = threading.Lock()
_PLANS: dict[tuple[str, int, int, str | None], "Plan"] = {}  # (path, mtime, size, column left out) -> plan
_SAID: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Plan:
    """A suite ready for scoring: its items without one column's, and GX's typed form of each (None: GX judges)."""

    path: Path
    name: str
    items: list[dict[str, Any]]
    digest: str
    rules: tuple[RuleConfig, ...] | None
    parameterised: frozenset[int] = field(default_factory=frozenset)  # rules naming a suite parameter


def validate_rows(
    df: pd.DataFrame, suite_path: str | Path, batch_name: str, without_column: str | None = None
) -> ValidationReport:
    """The suite at ``suite_path`` (less the expectations on ``without_column``) on ``df``."""
    from monitoring.validation import build_report, validate_items

    plan = plan_for(Path(suite_path), without_column)
    if plan.rules is not None:
        try:
            results = evaluate_plan(df, plan)
        except Unsure as why:
            _say_once(plan, f"some batches are validated by Great Expectations instead ({why})", logging.INFO)
        else:
            return build_report(df, plan.name, plan.items, results, batch_name, complete=True)
    return validate_items(df, plan.path, plan.name, plan.items, plan.digest, batch_name)


def evaluate_plan(df: pd.DataFrame, plan: Plan) -> list[Any]:
    """One result per expectation of the plan, in pandas; raises ``Unsure`` where GX must judge."""
    if plan.rules is None:
        raise Unsure("the suite holds an expectation without a fast check")
    columns: dict[Any, Column] = {}
    return [evaluate(df, rule, columns) for rule in _filled(plan)]


def plan_for(path: str | Path, without_column: str | None = None) -> Plan:
    """The plan of a suite file, rebuilt when the file changes (someone may widen it while serving)."""
    from monitoring.validation import SuiteError

    path = Path(path)
    try:
        stat = path.stat()
    except OSError as exc:
        raise SuiteError(path, f"cannot read the suite file ({exc.strerror or exc})") from None
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, without_column)
    with _LOCK:
        if key not in _PLANS:
            for stale in [k for k in _PLANS if (k[0], k[3]) == (key[0], key[3])]:  # an earlier content of the file
                del _PLANS[stale]
            _PLANS[key] = _build_plan(path, without_column)
        return _PLANS[key]


def _build_plan(path: Path, without_column: str | None) -> Plan:
    from monitoring.validation import build_expectation, read_suite

    name, items, _ = read_suite(path)
    kept = [item for item in items if without_column is None or item.get("kwargs", {}).get("column") != without_column]
    digest = hashlib.sha256(json.dumps([name, kept], sort_keys=True, default=str).encode()).hexdigest()
    rules = tuple(_rule(build_expectation(path, index, item).configuration) for index, item in enumerate(kept))
    named = frozenset(i for i, rule in enumerate(rules) if any(_is_parameter(v) for v in rule.kwargs.values()))
    plan = Plan(path, name, kept, digest, rules, named)
    unknown = unknown_rules(list(rules))
    if unknown:
        shown = ", ".join(sorted(set(unknown)))
        _say_once(plan, f"validated by Great Expectations on every batch: no fast check for {shown}", logging.WARNING)
        return replace(plan, rules=None)
    return plan


def _rule(configuration: Any) -> RuleConfig:
    return RuleConfig(str(configuration.type), dict(configuration.kwargs), dict(configuration.meta or {}))


def _filled(plan: Plan) -> list[RuleConfig]:
    """Suite parameters (``{"$PARAMETER": name}``) set to this validation's values, as GX does per run."""
    from monitoring.suites import run_parameters

    rules = list(plan.rules or ())
    if not plan.parameterised:
        return rules
    values = run_parameters()
    filled = lambda kwargs: {k: values[v["$PARAMETER"]] if _is_parameter(v) else v for k, v in kwargs.items()}  # noqa: E731
    return [
        replace(rule, kwargs=filled(rule.kwargs)) if i in plan.parameterised else rule for i, rule in enumerate(rules)
    ]


def _is_parameter(value: Any) -> bool:
    return isinstance(value, dict) and "$PARAMETER" in value


def _say_once(plan: Plan, message: str, level: int) -> None:
    if (plan.digest, message) not in _SAID:
        _SAID.add((plan.digest, message))
        LOG.log(level, "suite %s (%s): %s", plan.name, plan.path, message)
