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


SIGNALS = [(signal.SIGTERM, 143, "stopped by SIGTERM"), (signal.SIGINT, 130, "interrupted (Ctrl-C)")]


def test_signals_and_kill_9_mid_training_leave_the_home_usable(tmp_path, synth, cli):
    """One home, three runs stopped mid-training: SIGTERM and Ctrl-C each end theirs within
    seconds with one line and the shell's code; kill -9 leaves only the home's own server.
    Each next run gets to training (nothing left locked), and the last one reuses the server
    and promotes."""
    config = cli.build(tmp_path, synth)
    home = tmp_path / "home"
    cli.seed(home)
    try:
        for signum, code, words in SIGNALS:
            returncode, took, out, err = stop_mid_training(cli, tmp_path, config, signum)
            assert returncode == code, (words, err[-3000:])
            assert took < 15, f"took {took:.1f} s to stop after {words}"
            lines = err.strip().splitlines()  # the run's own log may say it crashed; then our one line
            assert lines[-1] == f"retrain: {words}; exiting"
            assert "Traceback" not in err and sum(line.startswith("retrain:") for line in lines) == 1
            assert out == ""

        server = read_record(home).pid
        (tmp_path / "fit-started").unlink(missing_ok=True)
        process = cli.start(["run", str(config), "--json"], cli.env(tmp_path, SLOW_FIT_SECONDS="120"))
        cli.wait_for((tmp_path / "fit-started").exists, 600, "training to start", process)
        assert read_record(home).pid == server
        process.kill()
        process.wait(timeout=30)
        left = cli.home_processes(home)  # only the home's server (keeper and Prefect), which the home owns
        assert left and all(os.getpgid(pid) == server for pid in left)

        again = cli.run(["run", str(config), "--json"], cli.env(tmp_path))
        assert again.returncode == 0, again.stderr[-3000:]
        assert json.loads(again.stdout)["status"] == "promoted"
        assert read_record(home).pid == server  # reused
        cli.run(["server", "stop", "--home", str(home)], cli.env(tmp_path))
        assert cli.home_processes(home) == []
    finally:
        if read_record(home) is not None:
            cli.run(["server", "stop", "--home", str(home)], cli.env(tmp_path))


def test_kill_9_of_a_run_on_a_temporary_server_is_cleaned_up_by_the_next_command(tmp_path, synth, cli):
    config = cli.build(tmp_path, synth)
    home = tmp_path / "home"
    cli.seed(home)
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
