"""Reviewer accounts keep hashes only; sessions are signed; the serving state follows the ledger."""

import os
import stat
import time

import pytest

from base.settings_state import LOCAL_STATE, serving_state_url
from retrain.review_web.accounts import (
    AccountsInvalid,
    Gatekeeper,
    add_account,
    check_password,
    hash_password,
    load_accounts,
    parse_accounts,
)
from retrain.review_web.sessions import Sessions


def test_a_password_is_kept_as_a_salted_hash_and_checked_against_it():
    stored = hash_password("s3cret pass", iterations=1000)
    assert stored.startswith("pbkdf2_sha256$1000$") and "s3cret" not in stored
    assert stored != hash_password("s3cret pass", iterations=1000)  # salted
    assert check_password("s3cret pass", stored) and not check_password("s3cret pasS", stored)


def test_a_plain_password_in_the_environment_is_refused_naming_the_account(tmp_path, monkeypatch):
    good = hash_password("pw", iterations=1000)
    monkeypatch.setenv("RETRAIN_REVIEWERS", f"alice:{good},bob:hunter2")
    with pytest.raises(AccountsInvalid, match="reviewer 'bob' has no pbkdf2_sha256 hash"):
        load_accounts(tmp_path)
    monkeypatch.setenv("RETRAIN_REVIEWERS", f"alice:{good}")
    assert Gatekeeper(load_accounts(tmp_path)).sign_in("alice", "pw")
    assert not Gatekeeper(load_accounts(tmp_path)).sign_in("mallory", "pw")  # no MLflow server to ask


def test_add_user_writes_an_owner_only_file_and_replaces_a_changed_password(tmp_path, monkeypatch):
    monkeypatch.delenv("RETRAIN_REVIEWERS", raising=False)
    monkeypatch.delenv("RETRAIN_REVIEWERS_FILE", raising=False)
    path = tmp_path / "reviewers"
    add_account(path, "alice", "first", iterations=1000)
    add_account(path, "bob", "other", iterations=1000)
    add_account(path, "alice", "second", iterations=1000)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    accounts = load_accounts(tmp_path)
    assert sorted(accounts) == ["alice", "bob"] and check_password("second", accounts["alice"])
    with pytest.raises(AccountsInvalid, match="reviewer name"):
        parse_accounts([f"a b:{accounts['bob']}"], "x")


def test_a_forged_or_expired_session_is_nobody(monkeypatch):
    sessions = Sessions("key")
    cookie = sessions.write(sessions.fresh("alice"))
    assert sessions.read(cookie).user == "alice"
    assert sessions.read(Sessions("other key").write(sessions.fresh("alice"))) is None
    assert sessions.read(cookie[:-2] + "xx") is None
    later = time.time() + 13 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    assert sessions.read(cookie) is None


def test_the_serving_state_follows_a_shared_ledger_unless_told_otherwise(monkeypatch):
    monkeypatch.delenv("RETRAIN_SERVING_URL", raising=False)
    monkeypatch.delenv("RETRAIN_LEDGER_URL", raising=False)
    pg = "postgresql+psycopg://team@db/acme_mlflow"
    assert serving_state_url(None, "sqlite:////h/ledger.db") == LOCAL_STATE
    assert serving_state_url(None, pg) == pg
    assert serving_state_url(LOCAL_STATE, pg) == LOCAL_STATE
    monkeypatch.setenv("RETRAIN_LEDGER_URL", pg)
    assert serving_state_url() == pg
    monkeypatch.setenv("RETRAIN_SERVING_URL", "postgresql+psycopg://team@db/serving")
    assert serving_state_url(LOCAL_STATE, pg) == "postgresql+psycopg://team@db/serving"


def test_a_name_with_too_many_wrong_passwords_waits_even_with_the_right_one(monkeypatch):
    from retrain.review_web import accounts

    now = [1000.0]
    monkeypatch.setattr(accounts.time, "monotonic", lambda: now[0])
    gate = Gatekeeper({"alice": hash_password("right", iterations=1000)})
    for _ in range(accounts.MAX_FAILURES):
        assert not gate.sign_in("alice", "wrong")
    assert gate.locked("alice") and not gate.sign_in("alice", "right")
    now[0] += accounts.LOCKOUT_SECONDS + 1
    assert gate.sign_in("alice", "right") and not gate.locked("alice")
