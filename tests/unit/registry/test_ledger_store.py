"""The ledger table and its per-model writer lock, on SQLite and on a real PostgreSQL.

The PostgreSQL cases must run in CI: an unreachable server fails them with a message
instead of skipping them.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from registry.ledger import Ledger, LedgerEntry, champion_stack, forget_model, open_ledger
from registry.ledger_locks import LedgerBusy


@pytest.fixture
def run_code(child_env):
    """Run Python source in a fresh process that finds the ledger at ``url``."""

    def run(code: str, url: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=child_env(LEDGER_URL=url), timeout=120
        )

    return run


def test_tables_are_created_once_and_intents_are_durable(ledger_url):
    first = Ledger(ledger_url)
    first.create_tables()
    first.create_tables()  # idempotent
    entry = first.write_intent("m", None, "1", "promote", "gate", "ci", "run-1", {"roc_auc": 0.8})
    other = Ledger(ledger_url)  # its own engine: sees only what was committed
    [seen] = other.entries("m", "pending")
    assert (seen.id, seen.to_version, seen.metrics, seen.run_id) == (entry.id, "1", {"roc_auc": 0.8}, "run-1")
    assert seen.created_at.tzinfo is not None and seen.created_at.utcoffset().total_seconds() == 0
    assert other.mark(entry.id, "applied") is True
    assert other.mark(entry.id, "failed") is False  # resolved once, never twice
    [done] = first.entries("m")
    assert done.status == "applied" and done.applied_at >= done.created_at
    assert first.entries("other-model") == []
    first.dispose()
    other.dispose()


def test_bad_values_are_refused(tmp_path):
    ledger = open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    with pytest.raises(ValueError, match="action"):
        ledger.write_intent("m", None, "1", "demote", None, None, None, None)
    entry = ledger.write_intent("m", None, "1", "promote", None, None, None, None)
    with pytest.raises(ValueError, match="applied or failed"):
        ledger.mark(entry.id, "pending")
    with pytest.raises(ValueError, match="memory"):
        Ledger("sqlite://")


def test_last_metrics_come_from_the_latest_move_to_that_version(tmp_path):
    ledger = open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    ledger.write_intent("m", None, "1", "promote", None, None, None, {"auc": 0.7})
    ledger.write_intent("m", "1", "2", "promote", None, None, None, {"auc": 0.8})
    ledger.write_intent("m", "2", "1", "rollback", None, None, None, {"auc": 0.75})
    assert ledger.last_metrics("m", "1") == {"auc": 0.75}
    assert ledger.last_metrics("m", "2") == {"auc": 0.8}
    assert ledger.last_metrics("m", "3") == {}


def test_forget_model_removes_only_that_models_entries(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = open_ledger(url)
    for model in ("demo", "demo", "kept"):
        ledger.write_intent(model, None, "1", "promote", None, None, None, None)
    assert forget_model(url, "demo") == 2
    assert ledger.entries("demo") == [] and len(ledger.entries("kept")) == 1


def _entry(i: int, action: str, to: str) -> LedgerEntry:
    return LedgerEntry(i, "m", None, to, action, None, None, None, "applied", datetime.now(UTC), None, None)


@pytest.mark.parametrize(
    ("moves", "expected"),
    [
        ([("promote", "1"), ("promote", "2"), ("promote", "3")], ["1", "2", "3"]),
        ([("promote", "1"), ("promote", "2"), ("promote", "3"), ("rollback", "2")], ["1", "2"]),
        ([("promote", "1"), ("promote", "2"), ("promote", "3"), ("rollback", "2"), ("rollback", "1")], ["1"]),
        # promoting again after a rollback pushes; the next rollback returns to the restored one
        ([("promote", "1"), ("promote", "2"), ("rollback", "1"), ("manual_promote", "3")], ["1", "3"]),
        # a rollback to a version that never held the alias is pushed like a promotion
        ([("promote", "1"), ("promote", "2"), ("rollback", "5")], ["1", "2", "5"]),
        # re-promoting an old champion: rolling back from it returns to the one before it
        ([("promote", "1"), ("promote", "2"), ("promote", "1"), ("rollback", "2")], ["1", "2"]),
    ],
)
def test_champion_stack_replays_pushes_and_pops(moves, expected):
    assert champion_stack([_entry(i, a, v) for i, (a, v) in enumerate(moves, 1)]) == expected


HOLD_OR_FAIL = """
import os
from registry.ledger import Ledger
from registry.ledger_locks import LedgerBusy
ledger = Ledger(os.environ["LEDGER_URL"], lock_timeout=0.3)
for model in ("held", "free"):
    try:
        with ledger.lock(model):
            print(model, "acquired")
    except LedgerBusy:
        print(model, "busy")
"""


def test_lock_is_per_model_and_across_processes(ledger_url, run_code):
    ledger = Ledger(ledger_url, lock_timeout=5)
    ledger.create_tables()
    with ledger.lock("held"):
        ledger.write_intent("held", None, "1", "promote", None, None, None, None)  # commits under the lock
        out = run_code(HOLD_OR_FAIL, ledger_url)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["held busy", "free acquired"]
    again = run_code(HOLD_OR_FAIL, ledger_url)
    assert again.stdout.split("\n")[:2] == ["held acquired", "free acquired"]
    ledger.dispose()


DIE_HOLDING = """
import os, signal
from registry.ledger import Ledger
ledger = Ledger(os.environ["LEDGER_URL"])
with ledger.lock("m"):
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_lock_dies_with_the_process_that_held_it(ledger_url, run_code):
    Ledger(ledger_url).create_tables()
    killed = run_code(DIE_HOLDING, ledger_url)
    assert killed.returncode == -9, killed.stderr
    ledger = Ledger(ledger_url, lock_timeout=10)
    with ledger.lock("m"):
        assert ledger.entries("m") == []
    ledger.dispose()


def test_waiting_writer_gets_the_lock_after_release(ledger_url):
    ledger = Ledger(ledger_url, lock_timeout=0.3)
    ledger.create_tables()
    with ledger.lock("m"), pytest.raises(LedgerBusy, match="'m'"), Ledger(ledger_url, lock_timeout=0.3).lock("m"):
        pass
    with Ledger(ledger_url, lock_timeout=0.3).lock("m"):
        pass
    ledger.dispose()
