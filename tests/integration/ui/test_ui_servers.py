"""``retrain ui``: its servers (and the review page, with an account) answer on 127.0.0.1; Ctrl-C stops them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]


def test_ui_serves_prefect_mlflow_and_the_review_page_and_ctrl_c_stops_them(tmp_path, local_net):
    from retrain.review_web.accounts import hash_password

    prefect_port, mlflow_port, review_port = local_net.free_port(), local_net.free_port(), local_net.free_port()
    health = [f"http://127.0.0.1:{prefect_port}/api/health", f"http://127.0.0.1:{mlflow_port}/health"]
    health.append(f"http://127.0.0.1:{review_port}/health")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RETRAIN_"))}
    env["RETRAIN_REVIEWERS"] = f"ann:{hash_password('a long password', 1000)}"
    out = (tmp_path / "ui.out").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "retrain.cli",
            "ui",
            "--home",
            str(tmp_path / "home"),
            "--prefect-port",
            str(prefect_port),
            "--mlflow-port",
            str(mlflow_port),
            "--review-port",
            str(review_port),
        ],
        env=env,
        cwd=REPO,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while not all(local_net.answers(url) for url in health):
            assert process.poll() is None, (tmp_path / "ui.out").read_text()
            assert time.monotonic() < deadline, "servers did not come up"
            time.sleep(1)
        while "Ctrl-C" not in (tmp_path / "ui.out").read_text():  # addresses are printed after health
            assert time.monotonic() < deadline
            time.sleep(0.5)
        printed = (tmp_path / "ui.out").read_text()
        assert f"http://127.0.0.1:{prefect_port}" in printed and f"http://127.0.0.1:{mlflow_port}" in printed
        assert f"Review:     http://127.0.0.1:{review_port}" in printed
        assert (tmp_path / "home" / "prefect").is_dir()  # Prefect's state lives under the Retrain home

        os.kill(process.pid, signal.SIGINT)  # what Ctrl-C delivers to the foreground process
        assert process.wait(timeout=90) == 0
        assert not any(local_net.answers(url) for url in health)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        out.close()


def test_ui_reuses_the_homes_running_prefect_server(tmp_path, local_net):
    from retrain.processes.home_record import read_record

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RETRAIN_"))}
    home = tmp_path / "home"
    cli = [sys.executable, "-m", "retrain.cli"]
    started = subprocess.run(
        [*cli, "server", "start", "--home", str(home)], env=env, cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert started.returncode == 0, started.stderr
    shared = read_record(home)
    mlflow_port = local_net.free_port()
    out = (tmp_path / "ui.out").open("w")
    process = subprocess.Popen(
        [*cli, "ui", "--home", str(home), "--mlflow-port", str(mlflow_port)],
        env=env,
        cwd=REPO,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while "Ctrl-C" not in (tmp_path / "ui.out").read_text():
            assert process.poll() is None, (tmp_path / "ui.out").read_text()
            assert time.monotonic() < deadline, "ui did not come up"
            time.sleep(0.5)
        printed = (tmp_path / "ui.out").read_text()
        assert shared.url in printed and "reused" in printed
        os.kill(process.pid, signal.SIGINT)
        assert process.wait(timeout=90) == 0
        assert read_record(home) == shared and local_net.answers(f"{shared.url}/health")  # still the home's
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        out.close()
        subprocess.run([*cli, "server", "stop", "--home", str(home)], env=env, cwd=REPO, capture_output=True)
