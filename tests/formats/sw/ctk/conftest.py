"""One embedded engine and worker for every scenario of the session. The petstore stand-in
(with petstore.swagger.io, httpbin.org... routed to it while a scenario runs) is the
``petstore`` fixture of ../conftest.py: the worker runs in this process, so the Python routing
API reaches its http activity."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..greeter import running_greeter
from .harness import Harness, running_harness


@pytest.fixture(scope="session")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with running_harness(tmp_path_factory.mktemp("ctk")) as running:
        yield running


@pytest.fixture(scope="session")
def greeter_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with running_greeter(tmp_path_factory.mktemp("greeter")) as port:
        yield port
