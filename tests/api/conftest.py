from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .servers import Served, start_serve


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One ``dwf serve`` per test module (tests use their own definition names and ids)."""
    directory: Path = tmp_path_factory.mktemp("serve")
    server = start_serve(directory / "state.db")
    try:
        yield server
    finally:
        server.terminate()


@pytest.fixture(scope="module")
def http(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        yield client
