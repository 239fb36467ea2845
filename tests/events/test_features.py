"""Our Gherkin scenarios for events (``features/events.feature``), run with the CTK runner and
step vocabulary of ``tests/formats/sw/ctk`` (listening, publishing, scheduling, lifecycle
events), plus one step of ours: publishing a batch of events."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from declarative_wf.engine.events_service import EventBusClient

from ..formats.sw.ctk.harness import Harness, running_harness
from ..formats.sw.ctk.runner import collect_scenarios
from ..formats.sw.ctk.steps import (
    World,
    run_scenario,
    step,
    yaml_value,
)

pytestmark = pytest.mark.integration

SCENARIOS = collect_scenarios(Path(__file__).parent / "features")


def _bus(world: World) -> EventBusClient:
    return EventBusClient(world.harness.engine.address)


@step(r"the events are published:", doc=True)
def when_published(world: World, doc: str, where: str) -> None:
    events = yaml_value(doc, where)
    with _bus(world) as bus:
        bus.publish_many(events if isinstance(events, list) else [events])


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with running_harness(tmp_path_factory.mktemp("features")) as running:
        yield running


@pytest.mark.parametrize("scenario", [pytest.param(s, id=s.test_id) for s in SCENARIOS])
def test_event_features(scenario: Any, harness: Harness, tmp_path: Path) -> None:
    run_scenario(World(harness, scenario, tmp_path))


def test_the_feature_file_has_scenarios() -> None:
    assert len(SCENARIOS) == 9
