from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import Server, running_server


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    with running_server() as running:
        yield running
