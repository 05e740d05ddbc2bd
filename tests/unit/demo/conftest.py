"""Shared fixtures: the flights are read once per session (the zip takes about a second)."""

from __future__ import annotations

import pytest

from retrain.demo.workspace import load_flights


@pytest.fixture(scope="session")
def flights():
    return load_flights()
