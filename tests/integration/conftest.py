"""Integration fixtures: a real Prefect test server, real MLflow on a temp SQLite, real GX.

The synthetic problem is small on purpose (a few hundred rows a month) so that the whole
loop runs in seconds; its signal is strong enough that a good model clears the floor and a
deliberately crippled one does not.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@pytest.fixture(scope="session", autouse=True)
def prefect_server():
    """One real temporary Prefect server for the whole integration session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def make_month(month: int, rows: int = 300, seed: int = 0, flip: bool = False) -> pd.DataFrame:
    """One month of a synthetic binary problem with numeric and categorical features."""
    rng = np.random.default_rng(seed * 100 + month)
    start = pd.Timestamp(f"2024-{month:02d}-01", tz="UTC")
    ts = start + pd.to_timedelta(rng.integers(0, 27 * 24, rows), unit="h")
    x1 = rng.normal(0, 1, rows)
    x2 = rng.uniform(0, 10, rows)
    colour = rng.choice(["red", "green", "blue"], rows)
    logit = 2.0 * x1 + 0.4 * (x2 - 5) + np.where(colour == "red", 1.0, -0.5)
    y = (rng.uniform(size=rows) < 1 / (1 + np.exp(-logit))).astype(int)
    if flip:
        y = 1 - y
    return pd.DataFrame(
        {"ts": ts.strftime("%Y-%m-%dT%H:%M:%SZ"), "x1": x1.round(4), "x2": x2.round(4), "colour": colour, "label": y}
    )


def write_config(root: Path, **overrides) -> Path:
    """A complete model config for the synthetic problem, written next to its batches."""
    cfg = {
        "name": overrides.pop("name", "synth"),
        "task": "binary",
        "data": {"path": "batches/*.csv", "timestamp_column": "ts", "target_column": "label"},
        "estimator": {"class_path": "sklearn.linear_model.LogisticRegression", "params": {"max_iter": 200}},
        "window": {"holdout_days": 28, "min_train_rows": 50, "min_holdout_rows": 50},
        "validation": {"suite": "synth.suite.json"},
        "gate": {"floor": 0.6, "bootstrap": {"resamples": 100, "seed": 0}},
        "constraints": {"positive_rate": [0.05, 0.95]},
        "state": {"home": str(root / "home")},
    }
    for key, value in overrides.items():
        cfg[key] = {**cfg.get(key, {}), **value} if isinstance(value, dict) else value
    path = root / "synth.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.fixture
def workspace(tmp_path, monkeypatch, migrated_mlflow_db, mlflow_globals):
    """Three good months in ``batches/`` plus a suite proposed from them."""
    import shutil

    from base.settings import load_config
    from monitoring.validation import propose_suite, write_suite

    for var in ("RETRAIN_HOME", "RETRAIN_TRACKING_URI", "RETRAIN_LEDGER_URL"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "home").mkdir()
    shutil.copy(migrated_mlflow_db, tmp_path / "home" / "mlflow.db")
    batches = tmp_path / "batches"
    batches.mkdir()
    for month in (1, 2, 3):
        make_month(month).to_csv(batches / f"m{month:02d}.csv", index=False)
    config_path = write_config(tmp_path)
    config = load_config(config_path)
    reference = pd.concat([make_month(m) for m in (1, 2, 3)], ignore_index=True)
    write_suite(propose_suite(reference, config), config.suite_path)
    return config_path


def run_flow(config_path: Path, trigger: str = "manual") -> dict:
    from flows.retrain import retrain_flow

    return retrain_flow(config_path=str(config_path), trigger=trigger).to_dict()


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now, for a server a test starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    """True when ``url`` answers 200; a refused or timed-out request means not (yet)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def local_net():
    """``free_port()`` and ``answers(url)`` for tests that start servers in subprocesses."""
    from types import SimpleNamespace

    return SimpleNamespace(free_port=free_port, answers=answers)


SERVE_WAIT_SECONDS = 120


@contextmanager
def serve_models(models: dict[str, str], tracking_uri: str, logs: Path) -> Iterator[dict[str, int]]:
    """``mlflow models serve`` of each model URI (``models:/NAME@champion``), all started before any
    is awaited so their start-ups overlap; yields each one's port, stops them all afterwards.

    The local environment manager runs ``uvicorn`` through the shell, so this environment's
    ``bin`` folder must be on ``PATH``, as it is in an activated virtual environment.
    """
    mlflow_cli = Path(sys.executable).parent / "mlflow"
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri, "MLFLOW_REGISTRY_URI": tracking_uri}
    env["PATH"] = f"{mlflow_cli.parent}{os.pathsep}{env.get('PATH', '')}"
    servers: dict[str, tuple[subprocess.Popen, int, Path]] = {}
    try:
        for key, uri in models.items():
            port = free_port()
            while port in {p for _, p, _ in servers.values()}:  # not yet bound by an earlier server
                port = free_port()
            log = logs / f"serve-{key}.log"
            cmd = [str(mlflow_cli), "models", "serve", "-m", uri, "--env-manager", "local"]
            cmd += ["--host", "127.0.0.1", "-p", str(port)]
            proc = subprocess.Popen(
                cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
            )
            servers[key] = (proc, port, log)
        for proc, port, log in servers.values():
            deadline = time.monotonic() + SERVE_WAIT_SECONDS
            while not answers(f"http://127.0.0.1:{port}/ping"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"model server on port {port} did not come up:\n{log.read_text()[-3000:]}")
                time.sleep(0.3)
        yield {key: port for key, (_, port, _) in servers.items()}
    finally:
        for proc, _, _ in servers.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)


def invoke_served(port: int, frame: pd.DataFrame) -> list:
    """POST the frame to a served model as ``dataframe_split`` JSON; its ``predictions``."""
    body = json.dumps({"dataframe_split": json.loads(frame.to_json(orient="split", index=False))}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["predictions"]


@pytest.fixture(scope="session")
def mlflow_serving():
    """``serve_models`` and ``invoke_served``: champions answered over HTTP by MLflow's own server."""
    from types import SimpleNamespace

    return SimpleNamespace(serve=serve_models, invoke=invoke_served)


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium through Playwright, shared by a module's tests; never skipped,
    never one downloaded by ``playwright install``: without it the tests fail and say how to get it."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium package. "
            "`make test` installs it (apt-get update && apt-get install -y chromium); "
            "never `playwright install`."
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.fail(f"playwright is not installed ({exc}); `make install` installs the dev group")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def synth():
    """The helpers above, for tests and module fixtures (conftest modules are not importable by name)."""
    from types import SimpleNamespace

    return SimpleNamespace(make_month=make_month, write_config=write_config, run_flow=run_flow)
