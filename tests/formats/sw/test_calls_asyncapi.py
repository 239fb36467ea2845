"""call: asyncapi publishing over HTTP (AsyncAPI 2.6 channels and 3.0 operations) to a local
broker stand-in; other protocols and subscriptions fail with a clear error."""

from __future__ import annotations

from typing import Any

import pytest

from declarative_wf.activities.problems import standard_type
from declarative_wf.activities.sw_calls import sw_asyncapi

from .call_helpers import problem, run
from .petstore import FIXTURES, PetstoreServer

V2 = {"endpoint": str(FIXTURES / "broker-asyncapi2.yaml")}
V3 = {"endpoint": str(FIXTURES / "broker-asyncapi3.yaml")}


async def publish(call: dict[str, Any]) -> Any:
    """The activity, as called for a definition loaded from a file in fixtures/."""
    return await sw_asyncapi({"base": str(FIXTURES), **call})


MESSAGE = {"payload": {"petId": 7, "by": "ann"}, "headers": {"x-trace": "t-1"}}


def test_publish_on_an_asyncapi2_channel(petstore: PetstoreServer) -> None:
    before = len(petstore.state.published)
    result = run(publish({"document": V2, "channel": "pets/adopted", "message": MESSAGE, "protocol": "https"}))
    assert result is None  # 202 without a body
    (published,) = petstore.state.published[before:]
    assert published["channel"] == "pets/adopted" and published["body"] == {"petId": 7, "by": "ann"}
    assert published["headers"]["x-trace"] == "t-1"


def test_publish_on_an_asyncapi3_operation_with_named_server_and_auth(petstore: PetstoreServer) -> None:
    before = len(petstore.state.requests)
    call = {"document": V3, "operation": "announceAdoption", "server": {"name": "broker"}, "message": MESSAGE,
            "authentication": {"bearer": {"token": "tok"}}}  # fmt: skip
    run(publish(call))
    method, path, headers = petstore.state.requests[before]
    assert (method, path) == ("PUT", "/broker/pets/adopted")  # the operation's http binding
    assert headers["authorization"] == "Bearer tok"


@pytest.mark.parametrize(
    ("call", "kind", "message"),
    [
        ({"document": V2, "channel": "pets/streamed", "message": MESSAGE}, "runtime", "speaks kafka"),
        ({"document": V2, "channel": "pets/adopted", "server": {"name": "kafka"}, "message": MESSAGE}, "runtime", "over http(s) only"),
        ({"document": V2, "channel": "pets/gone", "message": MESSAGE}, "configuration", "channel 'pets/gone' is not in the document"),
        ({"document": V3, "operation": "nope", "message": MESSAGE}, "configuration", "defines: announceAdoption"),
        ({"document": V3, "operation": "announceAdoption", "server": {"name": "x"}, "message": MESSAGE}, "configuration", "server 'x'"),
        ({"document": V3, "operation": "announceAdoption", "subscription": {"consume": {"amount": 1}}}, "runtime", "subscriptions are not supported"),
        ({"document": {"endpoint": str(FIXTURES / "petstore-swagger.json")}, "operation": "x"}, "configuration", "not an AsyncAPI"),
    ],
)
def test_unreachable_or_wrong_calls(petstore: PetstoreServer, call: dict[str, Any], kind: str, message: str) -> None:
    error = problem(publish(call))
    assert error["type"] == standard_type(kind) and message in error["detail"]


def test_broker_refusing_is_a_communication_error(petstore: PetstoreServer, tmp_path: Any) -> None:
    doc = tmp_path / "api.yaml"
    doc.write_text("asyncapi: 2.6.0\nservers: {s: {url: 'https://broker.example.com/nowhere', protocol: http}}\n"
                   "channels: {c: {publish: {}}}\n")  # fmt: skip
    error = problem(publish({"document": {"endpoint": str(doc)}, "channel": "c", "message": MESSAGE}))
    assert error["type"] == standard_type("communication") and error["status"] == 404
