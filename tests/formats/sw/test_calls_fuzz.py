"""Random inputs never make the call activities fail with anything but a Problem (a clear
Serverless Workflow error): no KeyError, TypeError or traceback reaches a workflow."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from declarative_wf.activities.problems import ProblemError
from declarative_wf.activities.sw_calls import sw_asyncapi, sw_openapi
from declarative_wf.activities.sw_grpc import sw_grpc

from .petstore import FIXTURES, PetstoreServer

PLAUSIBLE = st.sampled_from([
    "getPetById", "findPetsByStatus", "addPet", "pets/adopted", "announceAdoption", "SayHello", "greeter.v1.Greeter",
    "response", "raw", "content", "http", "kafka", "127.0.0.1", "petstore-swagger.json", "broker-asyncapi3.yaml",
    "greeter.proto", "https://petstore.swagger.io/v2/swagger.json", "file://greeter.proto", "${ .x }",
])  # fmt: skip
LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.text(max_size=8), PLAUSIBLE)
VALUES = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6) | PLAUSIBLE, inner, max_size=3), max_leaves=8)
KEYS = st.sampled_from([
    "document", "operationId", "parameters", "authentication", "output", "redirect", "proto", "service", "method",
    "arguments", "channel", "operation", "server", "protocol", "message", "subscription",
])  # fmt: skip
RESOURCES = st.sampled_from([{"endpoint": name} for name in ("petstore-swagger.json", "broker-asyncapi2.yaml", "broker-asyncapi3.yaml", "greeter.proto")])
CALLS = st.dictionaries(KEYS, VALUES | RESOURCES, max_size=7)


def only_problems(activity: Any, call: dict[str, Any]) -> None:
    try:
        asyncio.run(activity({**call, "base": str(FIXTURES)}))
    except ProblemError:
        pass


@pytest.mark.parametrize("activity", [sw_openapi, sw_asyncapi, sw_grpc], ids=["openapi", "asyncapi", "grpc"])
def test_random_calls_fail_only_with_problems(activity: Any, petstore: PetstoreServer) -> None:
    @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(CALLS)
    def check(call: dict[str, Any]) -> None:
        only_problems(activity, call)

    check()
