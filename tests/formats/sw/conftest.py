"""Fixtures shared by the Serverless Workflow tests (add yours below; keep them independent)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from declarative_wf.activities import sw_calls
from declarative_wf.activities.auth import clear_token_cache
from declarative_wf.activities.http import set_http_routes

from .petstore import PetstoreServer, running_petstore


@pytest.fixture(scope="session")
def petstore_server() -> Iterator[PetstoreServer]:
    with running_petstore() as server:
        yield server


@pytest.fixture()
def petstore(petstore_server: PetstoreServer) -> Iterator[PetstoreServer]:
    """The stand-in server of the call tests, with petstore.swagger.io, httpbin.org,
    auth.example.com and broker.example.com routed to it while the test runs."""
    set_http_routes(petstore_server.routes())
    clear_token_cache()
    sw_calls.clear_document_cache()
    try:
        yield petstore_server
    finally:
        set_http_routes(None)
