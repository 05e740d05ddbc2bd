"""``retrain ui`` starts its own Prefect and MLflow servers; no shared Prefect server here."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def prefect_server():
    """Overrides the parent's session-wide test harness, which these tests do not use."""
    yield None
