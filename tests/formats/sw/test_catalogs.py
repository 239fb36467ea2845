"""Catalog functions (call: name:version@catalog) and URI functions, from a local catalog
directory and from a catalog served by a real local HTTP server, run on the real engine."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

import pytest

from declarative_wf.formats.sw.catalogs import function_location, raw_root

from ...httpserver import LocalServer, QuietHandler, serving
from .run_helpers import diagnostics, file_diagnostics, run_sw, write

pytestmark = pytest.mark.integration

GREET = """\
input:
  schema:
    document: {type: object, required: [name]}
set:
  greeting: ${ "Hello, " + .name }
"""


def _catalog(root: Path) -> Path:
    for version, text in (("1.0.0", GREET), ("2.0.0", GREET.replace("Hello", "Hi"))):
        folder = root / "functions" / "greet" / version
        folder.mkdir(parents=True)
        (folder / "function.yaml").write_text(text, encoding="utf-8")
    broken = root / "functions" / "broken" / "1.0.0"
    broken.mkdir(parents=True)
    (broken / "function.yaml").write_text("set:\n  a: ${ .a + }\n", encoding="utf-8")
    return root


class _Quiet(QuietHandler, SimpleHTTPRequestHandler):
    pass


LOCAL = '{uri: "file://cat"}'  # the endpoint of a catalog in ./cat, next to the definition


def _catalog_call(catalog: str, endpoint: str, call: str) -> str:
    """A definition that calls one function of one catalog; the call is on line 9."""
    return f"""
        use:
          catalogs:
            {catalog}:
              endpoint: {endpoint}
        do:
          - g:
              call: {call}
    """


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    root = _catalog(tmp_path / "served")
    with serving(LocalServer(functools.partial(_Quiet, directory=str(root)))) as server:
        yield server.url


def test_local_catalog_function_runs_with_its_version(tmp_path: Path) -> None:
    _catalog(tmp_path / "cat")
    result = run_sw(tmp_path, """
        use:
          catalogs:
            local:
              endpoint: {uri: "file://cat"}
        do:
          - one:
              call: greet:1.0.0@local
              with: {name: "${ .who }"}
              export: {as: '{one: .greeting}'}
          - two:
              call: greet:2.0.0@local
              with: {name: Ann}
              output: {as: '$context + {two: .greeting}'}
    """, {"who": "Ann"})
    assert result.status == "COMPLETED", result.error
    assert result.output == {"one": "Hello, Ann", "two": "Hi, Ann"}


def test_http_catalog_function(tmp_path: Path, served: str) -> None:
    result = run_sw(tmp_path, f"""
        use:
          catalogs:
            remote:
              endpoint: {served}
        do:
          - greet:
              call: greet:1.0.0@remote
              with: {{name: Bob}}
    """)
    assert result.status == "COMPLETED", result.error
    assert result.output == {"greeting": "Hello, Bob"}


def test_uri_function(tmp_path: Path, served: str) -> None:
    result = run_sw(tmp_path, f"""
        do:
          - greet:
              call: {served}/functions/greet/2.0.0/function.yaml
              with: {{name: Cy}}
    """)
    assert result.status == "COMPLETED", result.error
    assert result.output == {"greeting": "Hi, Cy"}


def test_default_catalog_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DWF_DEFAULT_CATALOG", str(_catalog(tmp_path / "default-cat")))
    result = run_sw(tmp_path, """
        do:
          - greet:
              call: greet:1.0.0@default
              with: {name: Di}
    """)
    assert result.status == "COMPLETED", result.error
    assert result.output == {"greeting": "Hello, Di"}


def test_default_catalog_unset_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DWF_DEFAULT_CATALOG", raising=False)
    found = diagnostics("do:\n  - g:\n      call: greet:1.0.0@default\n")
    assert any(d.code == "SW-E112" and "default catalog is not configured" in d.message
               and "DWF_DEFAULT_CATALOG" in (d.hint or "") and d.position is not None for d in found)


def test_unknown_version_lists_the_versions_found(tmp_path: Path) -> None:
    _catalog(tmp_path / "cat")
    found = file_diagnostics(write(tmp_path, _catalog_call("local", LOCAL, "greet:3.0.0@local")))
    [problem] = [d for d in found if d.is_error]
    assert problem.code == "SW-E112" and "does not exist" in problem.message
    assert problem.hint == "versions found: 1.0.0, 2.0.0"
    assert problem.position is not None and problem.position.line == 9


def test_unknown_function_over_http_and_unknown_catalog(tmp_path: Path, served: str) -> None:
    found = file_diagnostics(write(tmp_path, _catalog_call("remote", served, "nothing:1.0.0@remote")))
    assert any("404" in d.message for d in found)
    unknown = diagnostics("do:\n  - g:\n      call: greet:1.0.0@elsewhere\n")
    assert any(d.code == "SW-E020" and "elsewhere" in d.message for d in unknown)


def test_problems_inside_the_function_file_are_positioned_there(tmp_path: Path) -> None:
    _catalog(tmp_path / "cat")
    found = file_diagnostics(write(tmp_path, _catalog_call("local", LOCAL, "broken:1.0.0@local")))
    inner = [d for d in found if d.file and d.file.endswith("broken/1.0.0/function.yaml")]
    assert inner and inner[0].position is not None and inner[0].position.line == 2


def test_unreachable_catalog_warns_then_fails_when_run(tmp_path: Path) -> None:
    result = run_sw(tmp_path, _catalog_call("gone", "http://127.0.0.1:9/catalog", "greet:1.0.0@gone"))
    assert result.status == "FAILED" and result.error is not None
    assert result.error["type"].endswith("/communication") and result.error["status"] == 503


def test_github_and_gitlab_tree_urls_are_rewritten_to_raw() -> None:
    assert raw_root("https://github.com/serverlessworkflow/catalog/tree/main") == \
        "https://raw.githubusercontent.com/serverlessworkflow/catalog/refs/heads/main"
    assert function_location("https://github.com/serverlessworkflow/catalog/tree/main", "log", "1.0.0", None) == \
        "https://raw.githubusercontent.com/serverlessworkflow/catalog/refs/heads/main/functions/log/1.0.0/function.yaml"
    assert raw_root("https://github.com/serverlessworkflow/catalog") == \
        "https://raw.githubusercontent.com/serverlessworkflow/catalog/refs/heads/main"
    assert raw_root("https://gitlab.com/group/project/-/tree/dev/catalog") == "https://gitlab.com/group/project/-/raw/dev/catalog"
    assert raw_root("https://example.com/catalog") == "https://example.com/catalog"


def test_function_that_is_not_a_valid_task_is_reported_in_its_file(tmp_path: Path) -> None:
    root = _catalog(tmp_path / "cat")
    bad = root / "functions" / "bad" / "1.0.0"
    bad.mkdir(parents=True)
    (bad / "function.yaml").write_text("set:\n  a: 1\nfor: 3\n", encoding="utf-8")
    found = file_diagnostics(write(tmp_path, _catalog_call("local", LOCAL, "bad:1.0.0@local")))
    inner = [d for d in found if d.file and d.file.endswith("bad/1.0.0/function.yaml")]
    assert any(d.position is not None and d.position.line == 3 and '"for" must be a mapping' in d.message for d in inner)
    assert any(d.code == "SW-E112" and d.pointer == "/do/0/g/call" for d in found)


def test_definitions_from_text_cannot_read_local_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A definition submitted as text (to a server) must not read the server's files; the
    operator's default catalog may still be local."""
    from declarative_wf.diagnostics import DiagnosticError
    from declarative_wf.formats import load_definition_text

    from .run_helpers import definition

    (tmp_path / "secret.yaml").write_text("set: {a: 1}\n", encoding="utf-8")
    text = definition(f"do:\n  - g:\n      call: file://{tmp_path}/secret.yaml\n")
    with pytest.raises(DiagnosticError) as raised:
        load_definition_text(text, "<submitted>")
    assert any("was not loaded from a file" in d.message for d in raised.value.diagnostics)
    monkeypatch.setenv("DWF_DEFAULT_CATALOG", str(_catalog(tmp_path / "default-cat")))
    compiled = load_definition_text(definition("do:\n  - g:\n      call: greet:1.0.0@default\n"), "<submitted>")
    assert compiled.workflow is not None
