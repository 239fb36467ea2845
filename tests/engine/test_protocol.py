"""The engine serves the protocol of the SDK it pins, and every RPC of it."""

from __future__ import annotations

from importlib.metadata import version

from packaging.specifiers import SpecifierSet

from declarative_wf.engine.protocol import SUPPORTED_SDK, Status, pb, pb_grpc, status_from_name, status_name
from declarative_wf.engine.servicer import SidecarServicer


def test_installed_sdk_is_in_the_supported_range() -> None:
    assert version("dapr") in SpecifierSet(SUPPORTED_SDK)


def test_every_rpc_of_the_service_is_implemented() -> None:
    service = pb.DESCRIPTOR.services_by_name["TaskHubSidecarService"]
    base = pb_grpc.TaskHubSidecarServiceServicer
    missing = [m.name for m in service.methods if getattr(SidecarServicer, m.name) is getattr(base, m.name)]
    assert missing == []


def test_status_names_round_trip() -> None:
    for value in pb.OrchestrationStatus.values():
        assert status_from_name(status_name(value).lower()) == value
    assert status_name(Status.SUSPENDED) == "SUSPENDED"
    assert status_name(99) == "UNKNOWN"
