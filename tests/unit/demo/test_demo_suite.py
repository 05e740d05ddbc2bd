"""The demo's checked-in suite is today's proposal, and it stops the broken July and only that."""

from __future__ import annotations

import json

import pytest

from base.settings import load_config
from monitoring.validation import propose_suite, validate_batch
from retrain.demo.workspace import EXAMPLE_DIR, SUITE_NAME, build_workspace
from training.data import load_batch, load_frames


@pytest.fixture(scope="module")
def workspace(flights, tmp_path_factory):
    root = tmp_path_factory.mktemp("demo-suite") / "ws"
    return build_workspace(root, months=(1, 2, 3, 7), initial_months=(1, 2, 3), broken_month=7, flights=flights)


def test_the_checked_in_suite_is_what_suite_init_proposes_from_january_to_march(workspace):
    config = load_config(workspace.config_path)
    reference = load_frames(list(workspace.initial), config.data.timestamp_column)

    proposed = json.loads(json.dumps(propose_suite(reference, config)))

    assert proposed == json.loads((EXAMPLE_DIR / SUITE_NAME).read_text())


def test_the_broken_july_is_quarantined_for_what_is_broken_and_the_real_july_passes(workspace):
    config = load_config(workspace.config_path)
    column = config.data.timestamp_column
    good = validate_batch(load_batch(workspace.later[-1], column), workspace.suite_path, "july.csv")
    assert good.success and good.failures == [], good.summary()

    report = validate_batch(load_batch(workspace.broken_batch, column), workspace.suite_path, "broken.csv")

    assert not report.success
    stopped = {(f.expectation, f.column) for f in report.failures}
    assert ("expect_column_to_exist", "sched_dep_time") in stopped  # the renamed column
    assert ("expect_column_values_to_be_between", "distance") in stopped  # negative: below validation.bounds
    assert ("expect_column_values_to_be_between", "humid") in stopped  # above 100 %: beyond validation.bounds
