from __future__ import annotations

from typing import Iterator, List

import pytest

import izin
from fakes import FakeServer


@pytest.fixture
def server() -> Iterator[FakeServer]:
    s = FakeServer()
    yield s
    s.stop()


@pytest.fixture
def sleeps() -> List[float]:
    """The backoff delays the client slept (it does not really sleep in tests)."""
    return []


@pytest.fixture
def client(server: FakeServer, sleeps: List[float]) -> Iterator[izin.Client]:
    c = izin.Client(server.target, api_key="izin_test", insecure=True, timeout=5.0)
    c._sleep = sleeps.append
    yield c
    c.close()
