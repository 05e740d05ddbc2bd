"""``drift_check_flow``: validate a batch, compare it with the champion, tell the world.

The check itself lives in ``monitoring.check`` (the CLI and the demo run it without
Prefect); the flow adds retries on I/O, logs the report to MLflow (the model's monitoring
experiment, tagged with the champion version it judged), publishes artifacts for the UI,
and emits one Prefect event per finding. Deployments trigger retrains on those events, so
the flow never starts a retrain itself: the policy lives in the triggers (``flows.deploy``).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from base.settings import ModelConfig, load_config
from base.vocabulary import BATCH_INVALID_EVENT, EVENTS
from flows.common import IO_RETRIES, artifact_key
from flows.decision_events import emit
from monitoring.check import Champion, DriftCheckResult, NoChampion, invalid_result, judge_batch, validate_batch_file
from monitoring.check import load_champion as load_serving_champion
from monitoring.intake import Intake


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def newest_batch(config: ModelConfig) -> str:
    """Without an explicit file, a scheduled check looks at the newest batch (last by name)."""
    from monitoring.sources import list_batches

    return str(list_batches(config)[-1])


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def validate(config: ModelConfig, batch_path: str) -> Intake:
    return validate_batch_file(config, batch_path)


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def load_champion(config: ModelConfig) -> Champion:
    return load_serving_champion(config)


@task(cache_policy=NO_CACHE)
def judge(config: ModelConfig, intake: Intake, champion: Champion) -> DriftCheckResult:
    return judge_batch(config, intake, champion)


@task(cache_policy=NO_CACHE)
def judge_invalid(config: ModelConfig, intake: Intake, champion: Champion | None) -> DriftCheckResult:
    """A failed batch: its failures, and the drift of the columns that passed when there is a champion."""
    return invalid_result(config, intake, champion)


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def log_check(config: ModelConfig, result: DriftCheckResult, champion_run_id: str | None) -> str:
    """One MLflow run per check in the monitoring experiment, linked to the champion version.

    Evidently's HTML page is built here and only here: it is the one place that stores it,
    and building its charts costs more than the check itself.
    """
    import mlflow

    from monitoring.drift_evidently import render_report_html
    from registry.store import connect, monitoring_experiment
    from registry.tag_values import clean_key

    client = connect(config)
    figures = {k: float(v) for k, v in result.figures().items() if isinstance(v, (int, float))}
    tags = {
        "retrain.kind": "drift_check",
        "retrain.model": config.name,
        "retrain.batch": result.batch,
        "retrain.champion_version": result.champion_version or "",
        "retrain.champion_run": champion_run_id or "",
        "retrain.signals": ",".join(result.signals) or "none",
        "retrain.flow_run_id": str(flow_run.get_id() or ""),
    }
    with mlflow.start_run(experiment_id=monitoring_experiment(client, config), run_name=f"drift-{result.batch}") as run:
        mlflow.set_tags(tags)
        mlflow.log_metrics({clean_key(k): v for k, v in figures.items()})
        mlflow.log_text(json.dumps(result.to_dict(), indent=2, default=str), "drift_check.json")
        html = render_report_html(result.drift) if result.drift is not None else None
        if html:
            with tempfile.TemporaryDirectory() as tmp:
                page = Path(tmp) / "drift_report.html"
                page.write_text(html)
                mlflow.log_artifact(str(page))
    if result.champion_version:
        client.set_model_version_tag(config.name, result.champion_version, "retrain.last_drift_check", run.info.run_id)
    return run.info.run_id


def publish_check(result, mlflow_run_id: str | None) -> None:
    """A summary and a per-column table a person can read in the Prefect UI."""
    key = artifact_key(result.model, "drift-check")
    lines = [f"# {result.model}: drift check of {result.batch}", "", "```", result.summary(), "```"]
    if mlflow_run_id:
        lines += ["", f"MLflow run `{mlflow_run_id}` holds the HTML report (`drift_report.html`)."]
    create_markdown_artifact(markdown="\n".join(lines), key=key, description=result.summary().splitlines()[0])
    if result.drift is not None:
        rows = [c.to_dict() for c in result.drift.columns]
        create_table_artifact(
            table=rows,
            key=artifact_key(result.model, "drift-columns"),
            description=f"Per-column drift of {result.batch} vs v{result.champion_version}",
        )


def emit_findings(result, mlflow_run_id: str | None) -> list[str]:
    """One event per finding, with the model as resource; triggers decide what starts a retrain."""
    from monitoring.decay import find_signals

    found = find_signals(result.drift, result.decay)
    for signal in found:
        payload = {
            "model": result.model,
            "version": result.champion_version,
            "batch": result.batch,
            "signal": signal,
            "starts_retrain": signal in result.signals,
            "summary": result.summary().splitlines()[0][:500],
            "figures": result.figures(),
            "drifted_columns": list(result.drift.drifted_columns) if result.drift else [],
            "mlflow_run_id": mlflow_run_id,
        }
        emit(result.model, EVENTS[signal], payload, result.champion_version)
    return [EVENTS[s] for s in found]


def report_invalid(result: DriftCheckResult) -> dict[str, Any]:
    """A batch set aside: logged, published, and named in an event, with what drift could be measured."""
    get_run_logger().error(result.summary())
    publish_check(result, None)
    return {**result.to_dict(), "events": [emit_invalid(result)], "mlflow_run_id": None}


def emit_invalid(result: DriftCheckResult) -> str:
    report = result.validation
    payload = {
        "model": result.model,
        "batch": result.batch,
        "version": result.champion_version,
        "error": report.error,
        "failures": [{"expectation": f.expectation, "column": f.column} for f in report.failures],
        "summary": result.summary().splitlines()[0][:500],
        "figures": result.figures(),
        "drifted_columns": list(result.drift.drifted_columns) if result.drift else [],
    }
    emit(result.model, BATCH_INVALID_EVENT, payload, None)
    return BATCH_INVALID_EVENT


def name_run() -> str:
    return f"drift-check-{Path(flow_run.parameters['config_path']).stem}"


@flow(name="drift-check", flow_run_name=name_run, log_prints=True)
def drift_check_flow(config_path: str, batch_path: str | None = None) -> dict[str, Any]:
    """Check one batch (default: the newest) against the champion; emit drift/decay events."""
    logger = get_run_logger()
    config = load_config(config_path)
    batch_path = batch_path or newest_batch(config)
    intake = validate(config, batch_path)
    try:
        champion = load_champion(config)
    except NoChampion as err:
        if not intake.accepted:
            return report_invalid(judge_invalid(config, intake, None))
        logger.warning("%s", err)
        return {
            "model": config.name,
            "batch": Path(batch_path).name,
            "status": "no_champion",
            "signals": [],
            "events": [],
            "message": str(err),
        }
    if not intake.accepted:
        return report_invalid(judge_invalid(config, intake, champion))
    result = judge(config, intake, champion)
    run_id = log_check(config, result, champion.run_id)
    publish_check(result, run_id)
    events = emit_findings(result, run_id)
    logger.info("%s; events: %s", result.summary(), ", ".join(events) or "none")
    return {**result.to_dict(), "events": events, "mlflow_run_id": run_id}
