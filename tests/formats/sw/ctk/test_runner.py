"""The Gherkin side of the CTK runner: backgrounds, outlines, rules, doc strings, and a clear
failure for a step phrase nobody defined."""

from __future__ import annotations

from pathlib import Path

import pytest

from .runner import parse_feature
from .steps import _MISSING, StepFailure, World, resolve, run_step, yaml_value

FEATURE = '''Feature: Sample
  Background:
    Given a workflow with definition:
    """yaml
    document: {dsl: '1.0.3', namespace: default, name: <name>, version: '1.0.0'}
    do: [{a: {set: {x: 1}}}]
    """

  Scenario: Plain
    When the workflow is executed
    Then the workflow should complete

  Rule: Outlines
    Scenario Outline: Named <name>
      And given the workflow input is:
      """yaml
      name: <name>
      """
      When the workflow is executed

      Examples:
        | name |
        | one  |
        | two  |
'''


def test_parse_backgrounds_rules_and_outlines(tmp_path: Path) -> None:
    path = tmp_path / "sample.feature"
    path.write_text(FEATURE)
    scenarios = parse_feature(path)
    assert [s.test_id for s in scenarios] == ["sample/Plain", "sample/Named one", "sample/Named two"]
    plain, one, _ = scenarios
    assert [step.text for step in plain.steps] == ["a workflow with definition:", "the workflow is executed", "the workflow should complete"]
    assert one.steps[1].doc_string == "name: one" and one.steps[1].text == "given the workflow input is:"


def test_doc_strings_are_yaml_1_2_values() -> None:
    assert yaml_value("1", "x") == 1
    assert yaml_value("on: yes", "x") == {"on": "yes"}  # YAML 1.2: `on` is a key, `yes` a string
    assert yaml_value("ids: [ 1, 2 ]", "x") == {"ids": [1, 2]}
    with pytest.raises(StepFailure, match="needs a doc string"):
        yaml_value(None, "x")


def test_dotted_paths() -> None:
    value = {"request": {"headers": {"a": 1}}, "items": [{"id": 5}]}
    assert resolve(value, "request.headers.a") == 1 and resolve(value, "items.0.id") == 5
    assert resolve(value, "request.nope") is _MISSING and resolve(value, "items.3") is _MISSING


def test_unknown_step_names_the_place(tmp_path: Path) -> None:
    path = tmp_path / "sample.feature"
    path.write_text(FEATURE.replace("Then the workflow should complete", "Then the workflow should dance"))
    scenario = parse_feature(path)[0]
    world = World(harness=None, scenario=scenario, tmp=tmp_path)  # type: ignore[arg-type]
    with pytest.raises(StepFailure, match=r"sample.feature:\d+: Then the workflow should dance: no step definition matches"):
        run_step(world, scenario.steps[-1])
