"""The home's server record, its settings, and orphans: real processes, no Prefect started."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from retrain.processes.home_record import (
    ServerError,
    ServerRecord,
    idle_seconds,
    poll_seconds,
    read_record,
    startup_timeout,
    write_record,
)
from retrain.processes.home_server import ensure_server, healthy_record
from retrain.processes.pids import HOME_TAG, PARENT_TAG, find_orphans, owner_tags, parent_tag, tag_alive


def record(pid: int) -> ServerRecord:
    return ServerRecord("http://127.0.0.1:9/api", pid, 9, "home", "2026-01-01T00:00:00+00:00")


@pytest.mark.parametrize("raw, seconds", [(None, 120.0), ("", 120.0), ("300", 300.0), ("2.5", 2.5)])
def test_startup_timeout_is_generous_by_default_and_configurable(monkeypatch, raw, seconds):
    if raw is None:
        monkeypatch.delenv("RETRAIN_SERVER_STARTUP_TIMEOUT", raising=False)
    else:
        monkeypatch.setenv("RETRAIN_SERVER_STARTUP_TIMEOUT", raw)
    assert startup_timeout() == seconds


@pytest.mark.parametrize("raw", ["soon", "0", "-5"])
def test_a_bad_startup_timeout_names_the_variable(monkeypatch, raw):
    monkeypatch.setenv("RETRAIN_SERVER_STARTUP_TIMEOUT", raw)
    with pytest.raises(ServerError, match="RETRAIN_SERVER_STARTUP_TIMEOUT"):
        startup_timeout()


def test_idle_minutes_default_to_ten_and_zero_means_never(monkeypatch):
    monkeypatch.delenv("RETRAIN_SERVER_IDLE_MINUTES", raising=False)
    assert idle_seconds() == 600
    monkeypatch.setenv("RETRAIN_SERVER_IDLE_MINUTES", "0")
    assert idle_seconds() == 0
    monkeypatch.setenv("RETRAIN_SERVER_IDLE_MINUTES", "later")
    with pytest.raises(ServerError, match="RETRAIN_SERVER_IDLE_MINUTES"):
        idle_seconds()


def test_the_keeper_polls_every_five_seconds_unless_told_otherwise(monkeypatch):
    monkeypatch.delenv("RETRAIN_SERVER_POLL_SECONDS", raising=False)
    assert poll_seconds() == 5
    monkeypatch.setenv("RETRAIN_SERVER_POLL_SECONDS", "0.5")
    assert poll_seconds() == 0.5
    for raw in ("often", "0"):
        monkeypatch.setenv("RETRAIN_SERVER_POLL_SECONDS", raw)
        with pytest.raises(ServerError, match="RETRAIN_SERVER_POLL_SECONDS"):
            poll_seconds()


def test_record_round_trips_and_garbage_reads_as_none(tmp_path):
    assert read_record(tmp_path) is None
    write_record(tmp_path, record(123))
    assert read_record(tmp_path) == record(123)
    (tmp_path / "prefect" / "retrain-server.json").write_text("{not json")
    assert read_record(tmp_path) is None


def test_a_record_naming_a_process_that_is_not_our_server_is_not_used(tmp_path):
    write_record(tmp_path, record(os.getpid()))  # alive, but pytest is not a Prefect server
    assert healthy_record(tmp_path, timeout=1) is None


def test_a_bad_setting_fails_before_anything_starts(tmp_path, monkeypatch):
    monkeypatch.setenv("RETRAIN_SERVER_STARTUP_TIMEOUT", "never")
    with pytest.raises(ServerError):
        ensure_server(tmp_path)
    assert read_record(tmp_path) is None


def test_parent_tags_tell_a_live_parent_from_a_dead_one():
    assert tag_alive(parent_tag())
    assert not tag_alive("999999999:1")
    assert not tag_alive(f"{os.getpid()}:0")  # same pid, other start time: a reused pid


def spawn_tagged(home: Path, parent: str) -> subprocess.Popen:
    env = {**os.environ, HOME_TAG: str(home.resolve()), PARENT_TAG: parent}
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], env=env)


def test_children_of_a_dead_parent_are_orphans_and_of_a_live_one_are_not(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_tag = parent_tag(dead.pid)
    dead.wait()
    orphan, kept = spawn_tagged(tmp_path, dead_tag), spawn_tagged(tmp_path, parent_tag())
    other_home = spawn_tagged(tmp_path / "elsewhere", dead_tag)
    try:
        time.sleep(0.5)
        assert find_orphans(tmp_path) == [orphan.pid]
        assert owner_tags(tmp_path)[HOME_TAG] == str(tmp_path.resolve())
    finally:
        for process in (orphan, kept, other_home):
            process.kill()
            process.wait()
