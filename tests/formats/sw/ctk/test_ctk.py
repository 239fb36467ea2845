"""Every scenario of the Serverless Workflow CTK (``ctk/features/*.feature`` of the shared
corpus) and of our own features (``tests/formats/sw/features``) as one test each, on the real
embedded engine. Scenarios that cannot pass yet are listed in ``known_failures.json`` with the
reason and run as strict xfails: one that starts passing fails the suite, so the list stays true.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ..petstore import PetstoreServer
from .harness import Harness
from .runner import MISSING, OWN_FEATURES, Scenario, collect_scenarios, ctk_features_dir
from .steps import World, run_scenario

pytestmark = [pytest.mark.integration, pytest.mark.conformance]

KNOWN_FAILURES: dict[str, str] = json.loads((Path(__file__).parent / "known_failures.json").read_text())
CTK = collect_scenarios(ctk_features_dir())
OWN = collect_scenarios(OWN_FEATURES)


def _params(scenarios: list[Scenario], prefix: str) -> list[Any]:
    params: list[Any] = []
    for scenario in scenarios:
        test_id = f"{prefix}{scenario.test_id}"
        marks = [pytest.mark.xfail(reason=KNOWN_FAILURES[test_id], strict=True)] if test_id in KNOWN_FAILURES else []
        params.append(pytest.param(scenario, id=test_id, marks=marks))
    return params


@pytest.mark.skipif(not CTK, reason=MISSING)
@pytest.mark.parametrize("scenario", _params(CTK, "ctk/"))
def test_ctk(scenario: Scenario, harness: Harness, petstore: PetstoreServer, tmp_path: Path) -> None:
    run_scenario(World(harness, scenario, tmp_path))


@pytest.mark.parametrize("scenario", _params(OWN, "own/"))
def test_own_features(scenario: Scenario, harness: Harness, petstore: PetstoreServer, greeter_port: int, tmp_path: Path) -> None:
    # Doc strings may name the ports of the servers the tests start: <<GRPC_PORT>>.
    run_scenario(World(harness, scenario, tmp_path, substitutions={"GRPC_PORT": str(greeter_port)}))


def test_the_ctk_has_21_scenarios() -> None:
    if not CTK:
        pytest.skip(MISSING)
    assert len(CTK) == 21, [s.test_id for s in CTK]


def test_known_failures_name_existing_scenarios() -> None:
    ids = {f"ctk/{s.test_id}" for s in CTK} | {f"own/{s.test_id}" for s in OWN}
    stale = sorted(set(KNOWN_FAILURES) - ids)
    assert not stale or not CTK, f"known_failures.json lists scenarios that do not exist: {stale}"


def test_every_ctk_scenario_is_expected_to_pass() -> None:
    """21 of 21: no scenario of the official CTK may be listed as a known failure."""
    listed = sorted(key for key in KNOWN_FAILURES if key.startswith("ctk/"))
    assert not listed, f"CTK scenarios listed as failing: {listed}"
