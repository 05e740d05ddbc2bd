"""The per-model run lease on SQLite and PostgreSQL: one holder, expiry, dead holders, renewal."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from registry.leases import RunBusy, acquire_run_lease, current_holder
from registry.ledger import Ledger


@pytest.fixture
def ledger(ledger_url):
    ledger = Ledger(ledger_url, lock_timeout=10)
    ledger.create_tables()
    yield ledger
    ledger.dispose()


def test_second_taker_is_refused_with_the_holder_named(ledger):
    with acquire_run_lease(ledger, "m", owner="alice", run_id="run-1", ttl=60):
        with pytest.raises(RunBusy) as busy:
            acquire_run_lease(ledger, "m", owner="bob", ttl=60)
        assert busy.value.holder.owner == "alice"
        assert "alice" in str(busy.value) and "run-1" in str(busy.value) and "--wait" in str(busy.value)
        other = acquire_run_lease(ledger, "other-model", owner="bob", ttl=60)  # per model, not global
        other.release()
    assert current_holder(ledger, "m") is None
    acquire_run_lease(ledger, "m", owner="bob", ttl=60).release()


def test_a_waiting_taker_gets_the_lease_when_the_holder_releases(ledger):
    import threading

    first = acquire_run_lease(ledger, "m", owner="alice", ttl=60)
    threading.Timer(1.0, first.release).start()
    started = time.monotonic()
    second = acquire_run_lease(ledger, "m", owner="bob", ttl=60, wait=30, poll=0.2)
    assert 0.8 < time.monotonic() - started < 30
    assert current_holder(ledger, "m").owner == "bob"
    second.release()


def test_an_expired_lease_is_taken_over_and_its_old_holder_learns_it(ledger):
    first = acquire_run_lease(ledger, "m", owner="alice", ttl=1)
    first._stop.set()  # stop renewing, as a frozen holder would
    time.sleep(1.2)
    assert current_holder(ledger, "m") is None
    second = acquire_run_lease(ledger, "m", owner="bob", ttl=60)
    assert first.renew() is False and first.lost
    first.release()  # releasing a lost lease must not free the new holder's
    assert current_holder(ledger, "m").owner == "bob"
    second.release()


def test_heartbeat_keeps_a_short_lease_alive(ledger):
    lease = acquire_run_lease(ledger, "m", owner="alice", ttl=1.5)
    time.sleep(3)  # two lease lengths: only renewal keeps it
    assert current_holder(ledger, "m").owner == "alice"
    assert not lease.lost
    lease.release()


def test_a_killed_holder_on_this_host_frees_the_lease_at_once(ledger, ledger_url, child_env):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from registry.ledger import Ledger\n"
            "from registry.leases import acquire_run_lease\n"
            "l = Ledger(sys.argv[1]); acquire_run_lease(l, 'm', owner='victim', ttl=3600)\n"
            "print('held', flush=True); time.sleep(600)\n",
            ledger_url,
        ],
        env=child_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert current_holder(ledger, "m").owner == "victim"
        with pytest.raises(RunBusy):
            acquire_run_lease(ledger, "m", owner="bob", ttl=60)
    finally:
        holder.kill()
        holder.wait()
    assert current_holder(ledger, "m") is None  # an hour-long lease, but its pid is gone
    acquire_run_lease(ledger, "m", owner="bob", ttl=60).release()
    assert os.getpid() != holder.pid
