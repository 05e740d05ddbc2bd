"""The pipelines in ``examples/ci/`` run as written: their pull-request gate and the guarded
promotion, step by step, with the documented variables, against a workspace with a champion.

Install steps are skipped: the test's own environment (``retrain`` on PATH) stands in for them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ci"
EXPRESSION = re.compile(r"\$\{\{\s*(?:vars|secrets|inputs)\.(\w+)\s*\}\}")


def shell(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """Both CI systems run a step in bash with -e and pipefail."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def base_env(variables: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RETRAIN_", "MLFLOW_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return {**env, **variables}


def github_env(blocks: list[dict], variables: dict[str, str]) -> dict[str, str]:
    """Workflow, job and step ``env:`` with ``${{ vars.X }}`` (and secrets, inputs) substituted."""
    env = base_env(variables)
    for block in blocks:
        for key, value in (block or {}).items():
            env[key] = EXPRESSION.sub(lambda m: variables.get(m.group(1), ""), str(value))
    return env


def github_steps(workflow: dict, job: str, variables: dict[str, str], cwd: Path) -> list[tuple[str, int]]:
    """Run a job's ``run:`` steps in order; a failed step ends the job unless the next says always()."""
    spec = workflow["jobs"][job]
    codes, failed = [], False
    for step in spec["steps"]:
        if "run" not in step or step.get("name") == "Install" or (failed and "always()" not in step.get("if", "")):
            continue
        result = shell(step["run"], github_env([workflow.get("env"), spec.get("env"), step.get("env")], variables), cwd)
        codes.append((step["name"], result.returncode))
        failed = failed or result.returncode != 0
    return codes


def gitlab_job(pipeline: dict, job: str, variables: dict[str, str], cwd: Path) -> tuple[int, int]:
    """``script`` lines in one shell (as the runner does), then ``after_script`` in another."""
    spec = pipeline[job]
    env = base_env({**{k: str(v) for k, v in pipeline.get("variables", {}).items()}, **variables})
    script = shell("\n".join(spec["script"]), env, cwd)
    after = shell("\n".join(spec.get("after_script", ["true"])), env, cwd)
    return script.returncode, after.returncode


@pytest.fixture
def checkout(workspace, synth, tmp_path):
    """A repository with a model whose champion is v1 and a new month the PR's model has not seen."""
    assert synth.run_flow(workspace)["status"] == "promoted"
    synth.make_month(4).to_csv(tmp_path / "batches" / "m04.csv", index=False)
    return {"RETRAIN_CONFIG": str(workspace), "RETRAIN_MODEL": "synth", "RETRAIN_BATCH": "batches/m04.csv"}


@pytest.mark.integration
def test_github_workflow_runs_as_written(checkout, tmp_path):
    workflow = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text())
    summary = tmp_path / "summary.md"
    variables = {**checkout, "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_ENV": str(tmp_path / "github.env")}

    steps = github_steps(workflow, "gate", variables, tmp_path)

    # the new month shifts the holdout; on it the retrained model is slightly worse: exit 4
    assert steps == [("Validate the newest batch", 0), ("Dry-run gate", 4), ("Post the report as the job summary", 0)]
    assert "## Retrain `synth`: **REJECTED** (dry run" in summary.read_text()
    promote = github_steps(
        workflow, "promote", {**variables, "action": "promote", "version": "1", "expect_current": "2"}, tmp_path
    )
    assert promote == [("Promote or roll back", 8)]  # the guard: the champion is v1, not v2


@pytest.mark.integration
def test_gitlab_pipeline_runs_as_written(checkout, tmp_path):
    pipeline = yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text())

    assert gitlab_job(pipeline, "gate", checkout, tmp_path) == (4, 0)
    assert "**REJECTED**" in (tmp_path / "retrain-reports" / "gate.md").read_text()
    promote = {**checkout, "RETRAIN_ACTION": "rollback", "RETRAIN_EXPECT_CURRENT": "2"}
    assert gitlab_job(pipeline, "promote", promote, tmp_path)[0] == 8
