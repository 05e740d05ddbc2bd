"""``score_flow``: score a batch with the champion from the UI or on a schedule.

The steps live in ``serving.scoring`` (``retrain score`` runs them without Prefect);
the flow adds retries on I/O and a summary a person can read in the Prefect UI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from base.settings import ModelConfig, load_config
from flows.common import IO_RETRIES, artifact_key, publish_review_queue
from flows.drift import newest_batch
from serving.scoring import ScoreResult, score_batch, write_rows


@task(cache_policy=NO_CACHE, **IO_RETRIES)
def score(config: ModelConfig, batch_path: str, version: str | None) -> ScoreResult:
    return score_batch(config, batch_path, version)


def publish_scoring(result: ScoreResult, out_path: str | None) -> None:
    lines = [f"# {result.model}: scored {result.batch}", "", result.summary(), ""]
    lines += [f"- prediction log: `{result.log_file}`", f"- queued for review: {result.queued}"]
    lines += [f"- written to `{out_path}`"] if out_path else []
    lines += [f"- note: {n}" for n in result.notes]
    create_markdown_artifact(markdown="\n".join(lines), key=artifact_key(result.model, "scoring"))


def name_run() -> str:
    return f"score-{Path(flow_run.parameters['config_path']).stem}"


@flow(name="score", flow_run_name=name_run, log_prints=True)
def score_flow(
    config_path: str, batch_path: str | None = None, out_path: str | None = None, version: str | None = None
) -> dict[str, Any]:
    """Score one batch (default: the newest) with the champion or ``version``; log it, queue the unsure rows."""
    config = load_config(config_path)
    result = score(config, batch_path or newest_batch(config), version)
    if out_path:
        write_rows(result.rows, out_path)
    publish_scoring(result, out_path)
    publish_review_queue(config)
    get_run_logger().info("%s", result.summary())
    return {**result.to_dict(), "out": out_path}
