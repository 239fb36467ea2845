"""Helpers of the call tests: run an activity coroutine, or get the Problem it fails with."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest

from declarative_wf.activities.problems import ProblemError, parse_problem


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coroutine)


def problem(coroutine: Coroutine[Any, Any, Any]) -> dict[str, Any]:
    """The Problem Details a call fails with."""
    with pytest.raises(ProblemError) as caught:
        asyncio.run(coroutine)
    parsed = parse_problem(str(caught.value))
    assert parsed is not None
    return parsed
