"""CLI processes that find or start their home's Prefect server on their own.

These tests run ``retrain`` as subprocesses without ``PREFECT_API_URL``, so each home gets
its shared server (``retrain.processes.home_server``); the parent folder's in-process test
harness is not used here. A slow estimator (``SLOW_FIT_SECONDS``) touches ``FIT_STARTED`` when training
begins, so a test can stop a run mid-training without guessing at timings.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[3]

MARKED_ESTIMATOR = '''
import os
import pathlib
import time

from sklearn.linear_model import LogisticRegression


class MarkedLogisticRegression(LogisticRegression):
    """Touches FIT_STARTED, then holds the fit for SLOW_FIT_SECONDS."""

    def fit(self, X, y, sample_weight=None):
        marker = os.environ.get("FIT_STARTED")
        if marker:
            pathlib.Path(marker).touch()
        time.sleep(float(os.environ.get("SLOW_FIT_SECONDS", "0")))
        return super().fit(X, y, sample_weight)
'''


@pytest.fixture(scope="module")
def prefect_server():
    """Overrides the parent's session-wide test harness, which these tests do not use."""
    yield None


def build(root: Path, synth, name: str = "synth") -> Path:
    """Three good months, a proposed suite, a config with the marked estimator; returns the config."""
    from base.settings import load_config
    from monitoring.validation import propose_suite, write_suite

    (root / "batches").mkdir(parents=True)
    frames = [synth.make_month(m) for m in (1, 2, 3)]
    for month, frame in zip((1, 2, 3), frames, strict=False):
        frame.to_csv(root / "batches" / f"m{month:02d}.csv", index=False)
    (root / "marked_estimator.py").write_text(MARKED_ESTIMATOR)
    path = synth.write_config(
        root, name=name, estimator={"class_path": "marked_estimator.MarkedLogisticRegression", "params": {}}
    )
    write_suite(propose_suite(pd.concat(frames, ignore_index=True), load_config(path)), load_config(path).suite_path)
    return path


def cli_env(root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RETRAIN_", "MLFLOW_"))}
    env.update(
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        PYTHONPATH=str(root),
        FIT_STARTED=str(root / "fit-started"),
        OMP_NUM_THREADS="1",
    )
    env.update(extra)
    return env


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "retrain.cli", *args],
        env=env,
        cwd=REPO,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def run(args: list[str], env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "retrain.cli", *args], env=env, cwd=REPO, text=True, capture_output=True, timeout=timeout
    )


def wait_for(check, timeout: float, what: str, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if process is not None and process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"process exited ({process.returncode}) before {what}:\n{out[-2000:]}\n{err[-3000:]}")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def home_processes(home: Path) -> list[int]:
    """Every live process whose Prefect state or owner tag points at ``home``."""
    from retrain.processes.pids import HOME_TAG, environ_of, is_alive, list_pids

    prefect_home, tag = str(home.resolve() / "prefect"), str(home.resolve())
    found = []
    for pid in list_pids():
        env = environ_of(pid)
        ours = env.get("PREFECT_HOME") == prefect_home or env.get(HOME_TAG) == tag
        if ours and is_alive(pid) and pid != os.getpid():
            found.append(pid)
    return found


@pytest.fixture
def cli(migrated_prefect_db):
    """What these tests do with ``retrain`` processes; ``seed(home)`` gives a home a migrated Prefect database."""
    return SimpleNamespace(
        build=build,
        env=cli_env,
        start=start,
        run=run,
        wait_for=wait_for,
        home_processes=home_processes,
        seed=lambda home: migrated_prefect_db(home / "prefect"),
    )
