"""Blocks and holds: a rollback blocks the version it took away, a hold freezes automatic
promotions, a person's promotion overrides both and says so."""

from __future__ import annotations

import pytest

from base.exitcodes import EXIT_BY_KIND, Exit
from registry.champion import read_champion
from registry.ledger import Stores, open_ledger
from registry.promotion import move_champion, promote, release, rollback
from registry.promotion_types import PromotionWithheld
from registry.verdicts import active_blocks, active_hold, describe_guards


@pytest.fixture
def model(model_store, tmp_path):
    """A model with versions 1..4 whose versions 2 and 3 carry fingerprints, champion 2 then 3."""
    name = model_store.add_model(4)
    for version, fp in (("2", "fp-two"), ("3", "fp-three")):
        model_store.client.set_model_version_tag(name, version, "fingerprint", fp)
    stores = Stores(model_store.uri, f"sqlite:///{tmp_path / 'ledger.db'}")
    move_champion(stores, model_store.client, name, "2", "promote", "first", actor="gate")
    move_champion(stores, model_store.client, name, "3", "promote", "second", actor="gate")
    return stores, name, model_store.client


def test_rollback_blocks_the_version_it_took_away(model):
    stores, name, client = model
    rollback(stores, client, name, reason="bad calibration", actor="alice")
    blocks = active_blocks(open_ledger(stores.ledger_url), name)
    assert [(b.version, b.fingerprint, b.actor, b.reason) for b in blocks] == [
        ("3", "fp-three", "alice", "bad calibration")
    ]
    with pytest.raises(PromotionWithheld) as refused:  # a retrain that rebuilt v3 exactly
        move_champion(
            stores, client, name, "4", "promote", "gate", expect_current="2", fingerprint="fp-three", automatic=True
        )
    assert EXIT_BY_KIND[refused.value.kind] == Exit.WITHHELD and "v3" in str(refused.value)
    assert read_champion(client, name) == "2"
    # a different candidate is not blocked
    move_champion(
        stores, client, name, "4", "promote", "gate", expect_current="2", fingerprint="fp-new", automatic=True
    )
    assert read_champion(client, name) == "4"


def test_hold_freezes_automatic_promotions_until_release(model):
    stores, name, client = model
    rollback(stores, client, name, reason="investigating", actor="alice", hold=True)
    assert active_hold(open_ledger(stores.ledger_url), name).actor == "alice"
    with pytest.raises(PromotionWithheld, match="release"):
        move_champion(stores, client, name, "4", "promote", "gate", fingerprint="fp-new", automatic=True)
    assert read_champion(client, name) == "2"
    guards = describe_guards(open_ledger(stores.ledger_url), name)
    assert guards["hold"]["reason"] == "investigating" and guards["blocks"][0]["version"] == "3"

    assert release(stores, name, actor="bob")["released"] is True
    assert release(stores, name, actor="bob")["released"] is False
    move_champion(stores, client, name, "4", "promote", "gate", fingerprint="fp-new", automatic=True)
    assert read_champion(client, name) == "4"


def test_a_person_may_promote_a_blocked_version_during_a_hold(model):
    stores, name, client = model
    rollback(stores, client, name, actor="alice", hold=True)
    result = promote(stores, client, name, "3", reason="false alarm, v3 was fine", actor="bob")
    assert read_champion(client, name) == "3"
    assert any("lifted the block" in w for w in result.warnings)
    assert any("stays on hold" in w for w in result.warnings)
    ledger = open_ledger(stores.ledger_url)
    assert active_blocks(ledger, name) == []
    assert active_hold(ledger, name) is not None  # a promotion does not end the hold
