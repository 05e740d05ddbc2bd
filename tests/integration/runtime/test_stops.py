"""SIGTERM/Ctrl-C stop a run within seconds with one line; kill -9 leaves no server of its own."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from retrain.processes.home_record import read_record

pytestmark = pytest.mark.integration


def stop_mid_training(cli, root, config, signum):
    marker = root / "fit-started"
    marker.unlink(missing_ok=True)
    process = cli.start(["run", str(config), "--json"], cli.env(root, SLOW_FIT_SECONDS="120"))
    cli.wait_for(marker.exists, 600, "training to start", process)
    sent = time.monotonic()
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    return process.returncode, time.monotonic() - sent, out, err


@pytest.mark.parametrize(
    "signum, code, words", [(signal.SIGTERM, 143, "stopped by SIGTERM"), (signal.SIGINT, 130, "interrupted (Ctrl-C)")]
)
def test_a_signal_mid_training_stops_the_run_with_one_line(tmp_path, synth, cli, signum, code, words):
    config = cli.build(tmp_path, synth)
    try:
        returncode, took, out, err = stop_mid_training(cli, tmp_path, config, signum)
        assert returncode == code
        assert took < 15, f"took {took:.1f} s to stop"
        lines = err.strip().splitlines()  # the run's own log may say it crashed; then our one line
        assert lines[-1] == f"retrain: {words}; exiting"
        assert "Traceback" not in err and sum(line.startswith("retrain:") for line in lines) == 1
        assert out == ""
        again = cli.run(["run", str(config), "--json"], cli.env(tmp_path))  # nothing left locked
        assert again.returncode == 0, again.stderr[-3000:]
        assert json.loads(again.stdout)["status"] == "promoted"
    finally:
        cli.run(["server", "stop", "--home", str(tmp_path / "home")], cli.env(tmp_path))


def test_kill_9_leaves_the_home_server_to_the_next_command(tmp_path, synth, cli):
    config = cli.build(tmp_path, synth)
    home = tmp_path / "home"
    process = cli.start(["run", str(config), "--json"], cli.env(tmp_path, SLOW_FIT_SECONDS="120"))
    cli.wait_for((tmp_path / "fit-started").exists, 600, "training to start", process)
    server = read_record(home).pid
    process.kill()
    process.wait(timeout=30)
    left = cli.home_processes(home)  # only the home's server (keeper and Prefect), which the home owns
    assert left and all(os.getpgid(pid) == server for pid in left)
    again = cli.run(["run", str(config), "--json"], cli.env(tmp_path))
    assert again.returncode == 0, again.stderr[-3000:]
    assert read_record(home).pid == server  # reused
    cli.run(["server", "stop", "--home", str(home)], cli.env(tmp_path))
    assert cli.home_processes(home) == []


def test_kill_9_of_a_run_on_a_temporary_server_is_cleaned_up_by_the_next_command(tmp_path, synth, cli):
    config = cli.build(tmp_path, synth)
    home = tmp_path / "home"
    env = cli.env(tmp_path, RETRAIN_PREFECT_SERVER="ephemeral", SLOW_FIT_SECONDS="120")
    process = cli.start(["run", str(config), "--json"], env)
    cli.wait_for((tmp_path / "fit-started").exists, 600, "training to start", process)
    process.kill()
    process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while not cli.home_processes(home) and time.monotonic() < deadline:
        time.sleep(0.2)
    orphans = cli.home_processes(home)
    assert orphans, "the temporary server should have outlived its killed parent"
    status = json.loads(cli.run(["server", "status", "--home", str(home), "--json"], env).stdout)
    assert set(status["orphans"]) == set(orphans)
    cli.run(["server", "stop", "--home", str(home)], env)
    assert cli.home_processes(home) == []
    assert all(
        not os.path.exists(f"/proc/{pid}") or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2] for pid in orphans
    )
