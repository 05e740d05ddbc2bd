"""A real ``prefect server start`` on 127.0.0.1 for the serve/trigger tests.

The parent folder runs every test under ``prefect_test_harness``; serving deployments,
schedules and event triggers need the server's background services and a separate runner
process, so this folder overrides that fixture (same name) with a real server in a
subprocess on a free port and a temporary PREFECT_HOME, started once per module. Its UI
(``ui_url``) talks to that same server, so ``browser/`` drives it in headless Chromium.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

SLOW_ESTIMATOR = '''
import os
import time

from sklearn.linear_model import LogisticRegression


class SlowLogisticRegression(LogisticRegression):
    """Holds its retrain's concurrency slot for SLOW_FIT_SECONDS, so overlaps are certain."""

    def fit(self, X, y, sample_weight=None):
        time.sleep(float(os.environ.get("SLOW_FIT_SECONDS", "0")))
        return super().fit(X, y, sample_weight)
'''


def stop_group(process: subprocess.Popen) -> None:
    """Stop a process started in its own session, and everything it spawned."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=wait)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            continue


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RETRAIN_"))}
    env.update(PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1", GX_ANALYTICS_ENABLED="false")
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory, local_net, migrated_prefect_db):
    """Overrides the parent's test harness: one real server for this module."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    home = tmp_path_factory.mktemp("prefect-server")
    migrated_prefect_db(home)
    port = local_net.free_port()
    url = f"http://127.0.0.1:{port}/api"
    log = (home / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=clean_env(
            PREFECT_HOME=str(home),
            PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="2",
            # the UI's API address defaults to port 4200, not --port: point it at this server
            PREFECT_UI_API_URL=url,
            # the shortest deployment concurrency lease Prefect allows, so tests outlast it
            PREFECT_SERVER_CONCURRENCY_INITIAL_DEPLOYMENT_LEASE_DURATION="30",
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 180
    while not local_net.answers(f"{url}/health"):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_group(process)
            pytest.fail(f"prefect server did not start:\n{(home / 'server.log').read_text()[-3000:]}")
        time.sleep(0.5)
    try:
        with temporary_settings({PREFECT_API_URL: url}):
            yield SimpleNamespace(url=url, home=home, ui_url=f"http://127.0.0.1:{port}")
    finally:
        stop_group(process)
        log.close()


def build_model_workspace(root: Path, synth, name: str) -> Path:
    """Three good months, a suite proposed from them, and a config whose estimator sleeps in fit."""
    from base.settings import load_config
    from monitoring.validation import propose_suite, write_suite

    (root / "batches").mkdir(parents=True)
    frames = [synth.make_month(m) for m in (1, 2, 3)]
    for month, frame in zip((1, 2, 3), frames, strict=False):
        frame.to_csv(root / "batches" / f"m{month:02d}.csv", index=False)
    (root / "slow_estimator.py").write_text(SLOW_ESTIMATOR)
    path = synth.write_config(
        root, name=name, estimator={"class_path": "slow_estimator.SlowLogisticRegression", "params": {}}
    )
    config = load_config(path)
    write_suite(propose_suite(pd.concat(frames, ignore_index=True), config), config.suite_path)
    return path


@pytest.fixture(scope="module")
def served_env(prefect_server):
    """Environment for CLI subprocesses talking to the test server."""
    return lambda **extra: clean_env(PREFECT_API_URL=prefect_server.url, **extra)


@pytest.fixture(scope="module")
def helpers():
    return SimpleNamespace(build_model_workspace=build_model_workspace, stop_group=stop_group)
