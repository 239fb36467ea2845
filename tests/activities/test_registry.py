"""The user activity registry: wrapping, calling conventions, modules, errors."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dapr.ext.workflow as wf
import pytest
from dapr.ext.workflow._durabletask import task

from declarative_wf.activities import (
    ActivityContext,
    ActivityImportError,
    DuplicateActivityError,
    Registry,
    RegistryError,
    activity,
)
from declarative_wf.activities import (
    registry as registry_module,
)
from declarative_wf.activities.registry import dapr_activity, describe, unwrap


def fake_ctx(instance_id: str = "order-1", task_id: int = 7) -> wf.WorkflowActivityContext:
    return wf.WorkflowActivityContext(task.ActivityContext(instance_id, task_id, "exec-7"))


def envelope(value: Any, attempt: int = 1, node: str = "charge") -> dict[str, Any]:
    return {"dwf": 1, "input": value, "attempt": attempt, "node": node}


def call(registry: Registry, name: str, payload: Any) -> Any:
    spec = registry.get(name)
    assert spec is not None
    result = dapr_activity(spec)(fake_ctx(), payload)
    return asyncio.run(result) if asyncio.iscoroutine(result) else result


@pytest.fixture
def default_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[Registry]:
    """A fresh default registry, so decorator tests do not see each other."""
    fresh = Registry()
    monkeypatch.setattr(registry_module, "default_registry", fresh)
    yield fresh


def test_plain_function_gets_the_unwrapped_input() -> None:
    def double(x):
        return x * 2

    registry = Registry([double])
    assert call(registry, "double", envelope(21)) == 42
    # A bare input (from a plain Dapr workflow) works too.
    assert call(registry, "double", 5) == 10


def test_context_parameter() -> None:
    seen: list[ActivityContext] = []

    def charge(order, context):
        seen.append(context)
        return order["id"]

    registry = Registry([charge])
    assert call(registry, "charge", envelope({"id": 3}, attempt=2, node="n1")) == 3
    assert seen == [
        ActivityContext(instance_id="order-1", activity="charge", task_id=7, attempt=2, node="n1", task_execution_id="exec-7")
    ]


def test_context_only_and_no_parameters() -> None:
    def who(context):
        return context.instance_id

    def ping():
        return "pong"

    registry = Registry([who, ping])
    assert call(registry, "who", envelope(None)) == "order-1"
    assert call(registry, "ping", envelope({"ignored": True})) == "pong"


def test_async_activity_stays_async() -> None:
    async def slow_add(x, context):
        await asyncio.sleep(0)
        return x + context.attempt

    registry = Registry([slow_add])
    wrapper = dapr_activity(registry.get("slow_add"))  # type: ignore[arg-type]
    # The SDK runs coroutine functions on its event loop, so the wrapper must be one too.
    assert asyncio.iscoroutinefunction(wrapper)
    assert asyncio.run(wrapper(fake_ctx(), envelope(1, attempt=3))) == 4


def test_exceptions_propagate_unchanged() -> None:
    class PaymentDeclined(Exception):
        pass

    def pay(order):
        raise PaymentDeclined(f"card of {order} declined")

    with pytest.raises(PaymentDeclined, match="card of 1 declined"):
        call(Registry([pay]), "pay", envelope(1))


def test_results_must_be_json() -> None:
    def stamp(x):
        return datetime.datetime(2026, 1, 1)

    def nan(x):
        return float("nan")

    registry = Registry([stamp, nan])
    with pytest.raises(TypeError, match="activity 'stamp' returned a value that is not JSON-serialisable"):
        call(registry, "stamp", envelope(1))
    with pytest.raises(TypeError, match="activity 'nan'"):
        call(registry, "nan", envelope(1))


def test_results_become_plain_json() -> None:
    @dataclasses.dataclass
    class Receipt:
        id: int
        lines: tuple[str, ...]

    def receipt(x):
        return Receipt(x, ("a", "b"))

    def keys(x):
        return {1: (1, 2)}

    registry = Registry([receipt, keys])
    assert call(registry, "receipt", envelope(5)) == {"id": 5, "lines": ["a", "b"]}
    assert call(registry, "keys", envelope(5)) == {"1": [1, 2]}


def test_two_required_arguments_are_refused() -> None:
    def two(a, b):
        return a

    with pytest.raises(RegistryError, match="must take one argument"):
        Registry([two])


def test_names_and_duplicates() -> None:
    def a(x):
        return x

    def b(x):
        return x

    registry = Registry()
    registry.add(a)
    registry.add(a)  # the same function again: fine
    registry.add(b, name="renamed")
    assert registry.names() == ["a", "renamed"] and "a" in registry and len(registry) == 2
    with pytest.raises(DuplicateActivityError, match="'a' is registered twice"):
        registry.add(b, name="a")


def test_decorator(default_registry: Registry) -> None:
    @activity
    def first(x):
        return x

    @activity(name="second-name")
    async def second(x):
        return x

    assert default_registry.names() == ["first", "second-name"]
    assert describe(second, "second-name").is_async


def test_envelope_detection() -> None:
    assert unwrap(envelope(3, 2, "n")) == (3, 2, "n", None)
    assert unwrap({"input": 1}) == ({"input": 1}, 1, None, None)
    assert unwrap([1]) == ([1], 1, None, None)


# -- modules ------------------------------------------------------------------------------------


@pytest.fixture
def module_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [n for n in sys.modules if n.startswith("acts_")]:
        del sys.modules[name]


def write(directory: Path, name: str, source: str) -> None:
    (directory / f"{name}.py").write_text(textwrap.dedent(source))


def test_import_module(module_dir: Path, default_registry: Registry) -> None:
    write(
        module_dir,
        "acts_shop",
        """
        from declarative_wf.activities import activity
        from json import dumps                # imported: not an activity

        def charge(order):
            return order

        async def ship(order, context):
            return context.node

        def _helper(x):                       # private: not an activity
            return x

        @activity(name="refund-order")
        def refund(order):
            return -order

        class Cart:                           # not a function
            pass

        def tax(amount, rate):                # a helper that cannot be an activity
            return amount * rate

        def http(x):                          # the built-in's name
            return x
        """,
    )
    registry = Registry()
    names = registry.import_module("acts_shop")
    assert sorted(names) == ["charge", "refund-order", "ship"]
    assert registry.names() == ["charge", "refund-order", "ship"]
    assert sorted(registry.skipped) == ["http", "tax"]
    assert "acts_shop.tax requires more than one argument" in registry.skipped["tax"]
    assert call(registry, "refund-order", envelope(3)) == -3
    # The decorated one is in the default registry as well.
    assert default_registry.names() == ["refund-order"]


def test_import_module_by_path(module_dir: Path) -> None:
    write(module_dir, "acts_file", "def one(x):\n    return 1\n")
    registry = Registry()
    registry.import_module(str(module_dir / "acts_file.py"))
    assert registry.names() == ["one"]
    # Importing it again (another run in the same process) is not a duplicate.
    registry.import_module(str(module_dir / "acts_file.py"))


def test_the_same_name_from_two_modules(module_dir: Path) -> None:
    write(module_dir, "acts_a", "def charge(x):\n    return 1\n")
    write(module_dir, "acts_b", "def charge(x):\n    return 2\n")
    registry = Registry()
    registry.import_module("acts_a")
    with pytest.raises(DuplicateActivityError, match=r"acts_a.charge and by acts_b.charge"):
        registry.import_module("acts_b")


@pytest.mark.parametrize(
    ("name", "source", "message"),
    [
        ("acts_missing_name", None, "no module named 'acts_missing_name'"),
        ("acts_broken_import", "import acts_not_there\n", "No module named 'acts_not_there'"),
        ("acts_syntax", "def f(:\n", "syntax error at"),
        ("acts_raises", "raise RuntimeError('no config')\n", "RuntimeError: no config"),
    ],
)
def test_unimportable_modules(module_dir: Path, name: str, source: str | None, message: str) -> None:
    if source is not None:
        write(module_dir, name, source)
    with pytest.raises(ActivityImportError, match=message):
        Registry().import_module(name)


def test_missing_file() -> None:
    with pytest.raises(ActivityImportError, match="no such file"):
        Registry().import_module("does/not/exist.py")
