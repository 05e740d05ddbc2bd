"""Quarantine releases are ledger records, on SQLite and on a real PostgreSQL: the newest release
of exactly one content is found, another model's or another content's never is."""

from __future__ import annotations

from registry.ledger import open_ledger
from registry.releases import find_release, list_releases, new_release, record_release


def test_a_release_is_found_by_model_and_content_and_listed_in_order(ledger_url):
    ledger = open_ledger(ledger_url)
    first = new_release("m", "b.csv", "h1", "renamed upstream", "ana", False, failures=["rule(x)"])
    record_release(ledger, first)
    record_release(ledger, new_release("m", "b.csv", "h1", "checked again", "bo", True, suite_version=3))
    record_release(ledger, new_release("other", "c.csv", "h2", "elsewhere", "cy", False))

    again = open_ledger(ledger_url)  # another connection sees what was committed
    newest = find_release(again, "m", "h1")
    assert newest is not None and (newest.reason, newest.actor, newest.widened, newest.suite_version) == (
        "checked again",
        "bo",
        True,
        3,
    )
    assert find_release(again, "m", "h2") is None and find_release(again, "nobody", "h1") is None
    listed = list_releases(again, "m")
    assert [r.reason for r in listed] == ["renamed upstream", "checked again"]
    assert listed[0].failures == ("rule(x)",) and listed[0].created_at.tzinfo is not None
    assert listed[0].to_dict()["batch"] == "b.csv"
