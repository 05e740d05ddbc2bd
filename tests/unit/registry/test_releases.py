"""Releases from quarantine are kept in the ledger's database, on SQLite and on a real PostgreSQL,
found by content (never by file name) and listed per model, oldest first."""

from __future__ import annotations

from registry.ledger import Ledger
from registry.releases import find_release, list_releases, new_release, record_release


def test_releases_are_found_by_content_and_listed_per_model(ledger_url):
    ledger = Ledger(ledger_url)
    ledger.create_tables()
    failures = ("expect_column_values_to_be_in_set(colour)", "expect_column_values_to_not_be_null(temp)")
    first = record_release(ledger, new_release("m", "m04.csv", "a" * 64, "renamed", "ana", False, failures=failures))
    second = new_release("m", "m05.csv", "b" * 64, "new range", "bo", True, suite_version=2, failures=failures[:1])
    record_release(ledger, second)
    record_release(ledger, new_release("other", "m04.csv", "a" * 64, "elsewhere", "cy", False))
    again = record_release(ledger, new_release("m", "m04.renamed.csv", "a" * 64, "again", "ana", False))

    reader = Ledger(ledger_url)  # its own engine: sees only what was committed
    listed = list_releases(reader, "m")

    assert [r.reason for r in listed] == ["renamed", "new range", "again"]
    assert listed[0] == first and listed[0].failures == failures
    assert listed[1].widened and listed[1].suite_version == 2 and listed[0].suite_version is None
    assert listed[0].created_at.utcoffset().total_seconds() == 0
    assert find_release(reader, "m", "a" * 64) == again  # the newest release of that content
    assert find_release(reader, "m", "c" * 64) is None
    assert find_release(reader, "other", "b" * 64) is None
    assert listed[1].to_dict()["failures"] == list(failures[:1])
    ledger.dispose()
    reader.dispose()
