"""Markdown reports for a review: what a CI job posts as a pull-request comment or job summary.

Built from the same dictionaries ``--json`` prints, so the report and the machine output can
never disagree. Short on purpose: a reviewer reads the decision, the numbers that drove it and
the rule that failed, and follows ``--json`` or the UI for everything else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MARKS = {"pass": "✅ pass", "fail": "❌ fail", "info": "ℹ️ info"}
MAX_FAILURES = 5


def run_markdown(outcome: dict[str, Any]) -> str:
    """The report of one retrain (dry or real) from ``RunOutcome.to_dict()``."""
    title = f"## Retrain `{outcome['model']}`: **{str(outcome['status']).upper()}**"
    lines = [
        title + (" (dry run: nothing registered or moved)" if outcome.get("dry_run") else ""),
        "",
        outcome.get("message") or "",
        "",
    ]
    decision = outcome.get("decision")
    if decision:
        lines += [*metric_table(decision), "", *rules(decision.get("reasons", [])), ""]
        lines += [*slice_table(decision.get("slices") or [], decision["metric"]), ""] if decision.get("slices") else []
    lines += [*search_table(outcome["search"]), ""] if outcome.get("search") else []
    lines += [*validation_table(outcome.get("validation") or []), ""]
    lines += data_window(outcome.get("lineage") or {})
    lines += [f"- {note}" for note in outcome.get("notes") or []]
    return "\n".join(lines).rstrip() + "\n"


def metric_table(decision: dict[str, Any]) -> list[str]:
    """Candidate vs champion on the same holdout, the primary metric first, then the interval."""
    champion = decision.get("champion_metrics") or {}
    version = decision.get("champion_version")
    primary = decision["metric"]
    names = [primary, *sorted(k for k in decision.get("candidate_metrics", {}) if k != primary)]
    head = f"champion v{version}" if version else "champion"
    lines = ["### Metrics (holdout)", "", f"| metric | candidate | {head} |", "| --- | ---: | ---: |"]
    for name in names:
        label = f"**{name}**" if name == primary else name
        lines.append(f"| {label} | {number(decision['candidate_metrics'].get(name))} | {number(champion.get(name))} |")
    boot = decision.get("bootstrap")
    if boot:
        lines += [
            "",
            f"Paired bootstrap of candidate − champion on {boot['metric']}: mean {signed(boot['mean_diff'])}, "
            f"{boot['confidence']:.0%} interval [{signed(boot['low'])}, {signed(boot['high'])}] "
            f"({boot.get('used_resamples') or boot['resamples']} resamples, seed {boot['seed']}).",
        ]
    return lines


def search_table(search: dict[str, Any]) -> list[str]:
    """The search's top trials by mean fold score inside the training window (never the holdout)."""
    metric = search["metric"]
    lines = [
        "### Search (time-ordered cross-validation inside the training window)",
        "",
        f"{search['completed']} of {search['trials']} trial(s) completed on {search['workers']} worker(s) "
        f"in {search['seconds']:.0f} s, {search['folds']} folds, stopped by {search['stopped_by']}; "
        "the winner was refitted on the whole window and gated.",
        "",
        f"| rank | trial | estimator | mean {metric} | folds | seconds |",
        "| ---: | ---: | --- | ---: | --- | ---: |",
    ]
    for t in search["top"]:
        folds = ", ".join(number(s) for s in t["fold_scores"]) or cell(t["error"])
        lines.append(
            f"| {t['rank'] or '-'} | {t['trial']} | {cell(t['label'])} | {number(t['mean_score'])} | {folds} | "
            f"{t['seconds']:.1f} |"
        )
    return lines


def slice_table(slices: list[dict[str, Any]], metric: str) -> list[str]:
    """The sliced gate: each slice's rows, both scores and the interval of candidate − champion."""
    lines = [
        "### Slices",
        "",
        f"| slice | rows | candidate {metric} | champion {metric} | difference | interval | verdict |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    marks = {"worse": "❌ worse", "ok": "✅ ok", "skipped": "— skipped"}
    for s in slices:
        interval = (
            f"[{signed(s['low'])}, {signed(s['high'])}]" if s.get("low") is not None else cell(s.get("note") or "")
        )
        lines.append(
            f"| {cell(s['column'])}={cell(s['value'])} | {s['rows']} | {number(s.get('candidate'))} | "
            f"{number(s.get('champion'))} | {signed(s['diff']) if s.get('diff') is not None else '—'} | {interval} | "
            f"{marks.get(s['verdict'], s['verdict'])} |"
        )
    return lines


def rules(reasons: list[str]) -> list[str]:
    """Every gate rule with its verdict, in the order the gate applied them."""
    lines = ["### Gate rules", ""]
    for reason in reasons:
        word, _, rest = reason.partition(": ")
        lines.append(f"- {MARKS[word]}: {rest}" if word in MARKS else f"- {reason}")
    return lines


def validation_table(reports: list[dict[str, Any]]) -> list[str]:
    """One row per batch; a failed batch names its first failed expectations."""
    lines = ["### Validation", "", "| batch | rows | result |", "| --- | ---: | --- |"]
    for report in reports:
        lines.append(f"| {report['batch']} | {report.get('rows', '')} | {validation_result(report)} |")
    return lines if reports else ["### Validation", "", "No batches."]


def validation_result(report: dict[str, Any]) -> str:
    if report.get("error"):
        return f"❌ {cell(report['error'])}"
    if report.get("success"):
        return f"✅ {report.get('evaluated', 0)} expectations passed"
    failures = report.get("failures") or []
    names = [
        f"{f['expectation']}({f['column']})" if f.get("column") else f["expectation"] for f in failures[:MAX_FAILURES]
    ]
    more = f" and {len(failures) - len(names)} more" if len(failures) > len(names) else ""
    return f"❌ {len(failures)} failed: {cell(', '.join(names))}{more}"


def data_window(lineage: dict[str, Any]) -> list[str]:
    if not lineage:
        return []
    return [
        "### Data",
        "",
        f"- train: {lineage.get('train_window')} ({lineage.get('train_rows')} rows)",
        f"- holdout: {lineage.get('holdout_window')} ({lineage.get('holdout_rows')} rows)",
        f"- batches: {lineage.get('batch_files')}",
    ]


def drift_markdown(result: dict[str, Any]) -> str:
    """The report of one drift check from ``DriftCheckResult.to_dict()``."""
    signals = ", ".join(result.get("signals") or []) or "none"
    champion = result.get("champion_version")
    lines = [
        f"## Drift check `{result['model']}` on `{result['batch']}`: **{str(result['status']).upper()}**",
        "",
        f"Champion: v{champion}. Signals: {signals}." if champion else f"Signals: {signals}.",
        "",
        *validation_table([result["validation"]]),
        "",
    ]
    drift = result.get("drift")
    if drift:
        lines += [
            f"### Drift ({len(drift['drifted_columns'])} drifted, share {drift['share']:.2f}, "
            f"threshold {drift['threshold']:.2f})",
            "",
            "| column | kind | method | score | threshold | drifted |",
            "| --- | --- | --- | ---: | ---: | --- |",
        ]
        lines += [
            f"| {c['column']} | {c['kind']} | {c['method']} | {number(c['score'])} | {number(c['threshold'])} | "
            f"{'❌ yes' if c['drifted'] else ('n/a' if c['status'] == 'insufficient_data' else 'no')} |"
            for c in drift["columns"]
        ]
        lines.append("")
    decay = result.get("decay")
    if decay:
        lines += [
            "### Performance",
            "",
            f"- {decay['metric']}: {number(decay['current'])} now vs "
            f"{number(decay['baseline'])} at promotion (tolerance {number(decay['tolerance'])})"
            f"{' ❌ degraded' if decay['degraded'] else ''}",
        ]
    lines += [f"- {note}" for note in result.get("notes") or []]
    return "\n".join(lines).rstrip() + "\n"


def write_report(path: Path, text: str) -> str:
    """Write the report (creating its folder) and return its path for ``--json``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def number(value: Any) -> str:
    return "–" if value is None else f"{value:.4f}"


def signed(value: Any) -> str:
    return "–" if value is None else f"{value:+.4f}"


def cell(text: str) -> str:
    """Table cells cannot hold pipes or newlines."""
    return str(text).replace("|", "\\|").replace("\n", " ")[:200]
