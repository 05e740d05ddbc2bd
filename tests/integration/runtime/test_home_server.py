"""``retrain run`` without PREFECT_API_URL: one server per home, started once, reused, stoppable,
and a start-up slower than Prefect's own 20 s wait does not fail the run."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from retrain.processes.home_record import read_record

pytestmark = pytest.mark.integration


def test_an_explicit_api_url_is_used_and_nothing_is_started(tmp_path, synth, cli):
    config = cli.build(tmp_path, synth)
    home = tmp_path / "home"
    cli.seed(tmp_path / "elsewhere")
    started = cli.run(["server", "start", "--home", str(tmp_path / "elsewhere"), "--json"], cli.env(tmp_path))
    url = json.loads(started.stdout)["url"]
    try:
        done = cli.run(["run", str(config), "--json"], cli.env(tmp_path, PREFECT_API_URL=url))
        assert done.returncode == 0, done.stderr[-3000:]
        assert read_record(home) is None and not (home / "prefect" / "prefect.db").exists()
    finally:
        cli.run(["server", "stop", "--home", str(tmp_path / "elsewhere")], cli.env(tmp_path))


def stale_record(home) -> None:
    """A record naming a live pid that is not a Prefect server (this test process)."""
    (home / "prefect").mkdir(parents=True)
    stale = {
        "url": "http://127.0.0.1:9/api",
        "pid": os.getpid(),
        "port": 9,
        "owner": "home",
        "started_at": "2026-01-01T00:00:00+00:00",
    }
    (home / "prefect" / "retrain-server.json").write_text(json.dumps(stale))


def test_a_slow_first_start_completes_the_run_and_the_next_run_reuses_the_server(tmp_path, synth, cli):
    """The first run finds a stale record and replaces it: it starts the home's server, frozen
    (SIGSTOP) for 25 s as soon as it is spawned, a start-up slower than Prefect's own 20 s
    wait. The run still completes, and the next run, status and stop use that same server."""
    config = cli.build(tmp_path, synth)
    home, env = tmp_path / "home", cli.env(tmp_path)
    stale_record(home)
    cli.seed(home)
    process = cli.start(["run", str(config), "--json"], env)

    def spawned() -> bool:
        record = read_record(home)
        return record is not None and record.pid != os.getpid()

    cli.wait_for(spawned, 300, "the server to be spawned", process)
    pid = read_record(home).pid
    os.killpg(pid, signal.SIGSTOP)
    time.sleep(25)
    assert process.poll() is None  # still waiting, not failed
    os.killpg(pid, signal.SIGCONT)
    out, err = process.communicate(timeout=600)
    try:
        assert process.returncode == 0, err[-3000:]
        assert json.loads(out)["status"] == "promoted"
        record = read_record(home)
        assert record is not None and record.pid == pid
        assert record.owner == "home" and record.url.startswith("http://127.0.0.1:")
        assert (home / "prefect" / "prefect.db").is_file()  # its state lives under the Retrain home

        second = cli.run(["run", str(config), "--json"], env)
        assert second.returncode in (0, 4), second.stderr[-3000:]
        assert read_record(home).pid == record.pid  # reused, not replaced

        status = json.loads(cli.run(["server", "status", "--home", str(home), "--json"], env).stdout)
        assert status["state"] == "running" and status["pid"] == record.pid and status["orphans"] == []
        stopped = cli.run(["server", "stop", "--home", str(home), "--json"], env)
        assert json.loads(stopped.stdout)["state"] == "stopped"
        assert read_record(home) is None and cli.home_processes(home) == []
    finally:
        if read_record(home) is not None:
            cli.run(["server", "stop", "--home", str(home)], env)


def test_a_start_up_beyond_the_configured_wait_fails_in_one_line_and_leaves_nothing(tmp_path, synth, cli):
    config = cli.build(tmp_path, synth)
    home = tmp_path / "home"
    process = cli.start(["run", str(config)], cli.env(tmp_path, RETRAIN_SERVER_STARTUP_TIMEOUT="3"))
    cli.wait_for(lambda: read_record(home) is not None, 300, "the server to be spawned", process)
    os.killpg(read_record(home).pid, signal.SIGSTOP)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 1
    said = " ".join(err.split())  # the error line may be wrapped to the console width
    assert "did not answer within 3 s" in said and "raise RETRAIN_SERVER_STARTUP_TIMEOUT" in said
    assert "Traceback" not in err + out
    assert read_record(home) is None and cli.home_processes(home) == []


def test_an_unused_server_stops_on_its_own_but_not_while_a_command_uses_it(tmp_path, cli):
    import fcntl

    from retrain.processes.usage import usage_path

    home = tmp_path / "home"
    cli.seed(home)
    env = cli.env(tmp_path, RETRAIN_SERVER_IDLE_MINUTES="0.1", RETRAIN_SERVER_POLL_SECONDS="0.5")  # 6 s
    started = cli.run(["server", "start", "--home", str(home), "--json"], env)
    assert started.returncode == 0, started.stderr[-3000:]
    with usage_path(home).open("a") as handle:  # what every command holds while it runs
        fcntl.flock(handle, fcntl.LOCK_SH)
        time.sleep(9)  # past the idle time (6 s) by six polls of the keeper (0.5 s)
        assert read_record(home) is not None and cli.home_processes(home)
    cli.wait_for(lambda: read_record(home) is None and not cli.home_processes(home), 120, "the unused server to stop")
