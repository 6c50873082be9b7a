"""Fixtures of the RabbitMQ model tests (helpers live in rmq_support.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rmq_support import World, make_world


@pytest.fixture
def world() -> World:
    """A simulation, a broker with default settings, and one open channel."""
    return make_world()
