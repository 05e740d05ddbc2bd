"""A version's outcome tag is written under ``retrain.outcome``; versions registered under the
key of earlier releases (``base.outcome``) are still read."""

from __future__ import annotations


def test_a_versions_outcome_is_read_under_its_key_and_the_key_older_versions_carry():
    from registry.approvals import OUTCOME_TAG, outcome_of

    assert OUTCOME_TAG == "retrain.outcome"
    assert outcome_of({"retrain.outcome": "promoted"}) == "promoted"
    assert outcome_of({"base.outcome": "pending_approval"}) == "pending_approval"  # registered earlier
    assert outcome_of({"base.outcome": "pending_approval", "retrain.outcome": "approved"}) == "approved"
    assert outcome_of({}) is None
