"""The definitions registry on its own: versions, hashes, idempotence, conflicts, persistence."""

from __future__ import annotations

from pathlib import Path

import pytest

from declarative_wf.api.compiling import compile_text
from declarative_wf.api.errors import ServiceError
from declarative_wf.api.registry import DefinitionRegistry, registry_path

from .definitions import DOUBLER, WAITER_V1, WAITER_V2


def _submit(registry: DefinitionRegistry, text: str) -> tuple[str, bool]:
    record, created = registry.submit(compile_text(text, "def.yaml"), text, "def.yaml")
    return record.ref, created


def test_versions_hashes_and_latest(tmp_path: Path) -> None:
    registry = DefinitionRegistry(tmp_path / "defs.sqlite")
    assert _submit(registry, WAITER_V1) == ("waiter@1", True)
    assert _submit(registry, WAITER_V1) == ("waiter@1", False)
    assert _submit(registry, WAITER_V2) == ("waiter@2", True)
    assert _submit(registry, DOUBLER) == ("doubler@1.0", True)
    assert registry.get("waiter").version == "2"
    first = registry.get("waiter@1")
    assert first.source == WAITER_V1 and first.graph is not None
    assert registry.get(first.hash).ref == "waiter@1"
    assert registry.find("waiter@9") is None
    record, workflow = registry.workflow("waiter@1")
    assert workflow.name == "waiter" and record.hash == first.hash
    assert [(n.name, n.versions, n.latest.version) for n in registry.names()] == [("doubler", 1, "1.0"), ("waiter", 2, "2")]
    with pytest.raises(ServiceError) as raised:
        registry.get("nothing")
    assert (raised.value.code, raised.value.http_status) == ("ERR_DEFINITION_NOT_FOUND", 404)
    registry.close()


def test_conflicting_explicit_version(tmp_path: Path) -> None:
    registry = DefinitionRegistry(None)
    _submit(registry, DOUBLER)
    with pytest.raises(ServiceError) as raised:
        _submit(registry, DOUBLER.replace("call: double", "call: double\n    timeout: 1s"))
    assert (raised.value.code, raised.value.http_status) == ("ERR_DEFINITION_VERSION_EXISTS", 409)


def test_integer_versions_are_never_reused_and_skip_explicit_ones(tmp_path: Path) -> None:
    registry = DefinitionRegistry(None)
    assert _submit(registry, WAITER_V1.replace("dwf: 1\n", 'dwf: 1\nversion: "1"\n')) == ("waiter@1", True)
    assert _submit(registry, WAITER_V1) == ("waiter@2", True)  # "1" is taken by the explicit one
    registry.delete("waiter@2")
    assert _submit(registry, WAITER_V2) == ("waiter@3", True)
    assert [r.ref for r in registry.delete("waiter")] == ["waiter@1", "waiter@3"]
    assert _submit(registry, WAITER_V1) == ("waiter@4", True)


def test_survives_reopening(tmp_path: Path) -> None:
    path = registry_path(tmp_path / "state.db")
    assert path.name == "state.db.definitions.sqlite"
    registry = DefinitionRegistry(path)
    _submit(registry, WAITER_V1)
    registry.close()
    again = DefinitionRegistry(path)
    assert again.get("waiter").ref == "waiter@1"
    assert _submit(again, WAITER_V1) == ("waiter@1", False)
    again.close()
