"""One embedded engine, worker and petstore stand-in for every scenario of the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from declarative_wf.activities import sw_calls
from declarative_wf.activities.auth import clear_token_cache
from declarative_wf.activities.http import set_http_routes

from ..greeter import running_greeter
from ..petstore import PetstoreServer
from .harness import Harness, running_harness


@pytest.fixture(scope="session")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with running_harness(tmp_path_factory.mktemp("ctk")) as running:
        yield running


@pytest.fixture()
def routed(petstore_server: PetstoreServer) -> Iterator[PetstoreServer]:
    """petstore.swagger.io, httpbin.org... go to the stand-in while a scenario runs (the worker
    runs in this process, so the Python routing API reaches its http activity)."""
    set_http_routes(petstore_server.routes())
    clear_token_cache()
    sw_calls.clear_document_cache()
    try:
        yield petstore_server
    finally:
        set_http_routes(None)


@pytest.fixture(scope="session")
def greeter_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with running_greeter(tmp_path_factory.mktemp("greeter")) as port:
        yield port
