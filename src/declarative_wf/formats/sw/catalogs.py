"""Catalog and URI functions: ``call: name:version@catalog`` and ``call: <uri of function.yaml>``.

The function's definition (a task, like a ``use.functions`` entry) is fetched **at compile
time** from ``<catalog root>/functions/<name>/<version>/function.yaml`` (the spec's catalog
layout) and compiled into the graph, so an instance keeps running the version it started with.

* the root is the catalog's ``endpoint`` (``use.catalogs.<name>.endpoint``, a string or
  ``{uri}``): a local directory (relative to the definition's directory, or ``file://``) or an
  http(s) URL. GitHub and GitLab tree URLs are rewritten to their raw form
  (``github.com/o/r/tree/main/x`` → ``raw.githubusercontent.com/o/r/refs/heads/main/x``;
  ``github.com/o/r`` → branch ``main``; ``gitlab.com/g/p/-/tree/ref`` → ``gitlab.com/g/p/-/raw/ref``);
* the reserved catalog ``default`` is ``use.catalogs.default`` when declared, else the
  environment variable ``DWF_DEFAULT_CATALOG`` of the compiling process;
* problems in the function file are reported with that file's ``FILE:LINE:COL``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from declarative_wf import ir
from declarative_wf.diagnostics import Diagnostic, DiagnosticError
from declarative_wf.loading import LoadedDocument, load_text

if TYPE_CHECKING:
    from .compile import TaskContext

__all__ = ["DEFAULT_CATALOG_ENV", "compile_external_function", "function_location", "raw_root"]

DEFAULT_CATALOG_ENV = "DWF_DEFAULT_CATALOG"
_COMMUNICATION = "https://serverlessworkflow.io/spec/1.0.0/errors/communication"
FETCH_TIMEOUT = 15.0
_CATALOGED = re.compile(r"^(?P<name>[^:@/\s]+):(?P<version>[^:@/\s]+)@(?P<catalog>[^:@/\s]+)$")


class CatalogError(Exception):
    """A function that cannot be found or read; ``hint`` says what to do. ``unreachable``: the
    server could not be reached at all (no answer), which may be temporary."""

    def __init__(self, message: str, hint: str | None = None, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.hint = hint
        self.unreachable = unreachable


def raw_root(uri: str) -> str:
    """A GitHub / GitLab tree URL as the URL of its raw files (others unchanged)."""
    parts = urlsplit(uri)
    segments = [s for s in parts.path.split("/") if s]
    if parts.netloc in ("github.com", "www.github.com") and len(segments) >= 2:
        owner, repo = segments[0], segments[1]
        if len(segments) >= 4 and segments[2] in ("tree", "blob"):
            return "/".join(["https://raw.githubusercontent.com", owner, repo, "refs/heads", *segments[3:]])
        return f"https://raw.githubusercontent.com/{owner}/{repo}/refs/heads/main"
    if parts.netloc == "gitlab.com" and "-" in segments:
        at = segments.index("-")
        if at + 1 < len(segments) and segments[at + 1] in ("tree", "blob"):
            segments[at + 1] = "raw"
        return f"https://gitlab.com/{'/'.join(segments)}"
    return uri


def function_location(root: str, name: str, version: str, base: str | None) -> str:
    """Where ``name:version`` lives in the catalog at ``root`` (a URL or a local path)."""
    if root.startswith(("http://", "https://")):
        return f"{raw_root(root).rstrip('/')}/functions/{name}/{version}/function.yaml"
    path = root.removeprefix("file://")
    if not os.path.isabs(path):
        path = os.path.join(base or os.getcwd(), path)
    return os.path.join(path, "functions", name, version, "function.yaml")


def _fetch(location: str) -> str:
    if location.startswith(("http://", "https://")):
        import httpx

        try:
            response = httpx.get(location, timeout=FETCH_TIMEOUT, follow_redirects=True)
        except httpx.InvalidURL as error:
            raise CatalogError(f"{location!r} is not a valid URL: {error}", "check the catalog's endpoint") from None
        except httpx.HTTPError as error:
            raise CatalogError(f"cannot fetch {location}: {error}", "check the catalog's endpoint and the network",
                               unreachable=True) from None  # fmt: skip
        if response.status_code == 404:
            raise CatalogError(f"{location} does not exist (404)", "check the function's name and version in the catalog")
        if response.status_code >= 400:
            raise CatalogError(f"fetching {location} failed with status {response.status_code}")
        return response.text
    try:
        with open(location, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        directory = os.path.dirname(os.path.dirname(location))
        versions = sorted(os.listdir(directory)) if os.path.isdir(directory) else []
        hint = f"versions found: {', '.join(versions)}" if versions else "check the function's name and the catalog's endpoint"
        raise CatalogError(f"{location} does not exist", hint) from None
    except (OSError, UnicodeDecodeError, ValueError) as error:  # ValueError: a NUL in the path
        raise CatalogError(f"cannot read {location}: {error}") from None


def _catalog_root(ctx: TaskContext, catalog: str, pointer: str) -> str | None:
    catalogs = (ctx.document.get("use") or {}).get("catalogs") or {}
    entry = catalogs.get(catalog) if isinstance(catalogs, Mapping) else None
    if entry is None and catalog == "default":
        root = os.environ.get(DEFAULT_CATALOG_ENV)
        if not root:
            ctx.error("SW-E112", "the default catalog is not configured", pointer,
                      hint=f"set {DEFAULT_CATALOG_ENV} to a catalog directory or URL, or declare use.catalogs.default")  # fmt: skip
        return root or None
    endpoint = entry.get("endpoint") if isinstance(entry, Mapping) else None
    if isinstance(endpoint, Mapping):
        if endpoint.get("authentication") is not None:
            ctx.warning("SW-W100", f"authentication of catalog {catalog!r} is not supported: it is fetched anonymously",
                        f"/use/catalogs/{catalog}/endpoint/authentication")  # fmt: skip
        endpoint = endpoint.get("uri")
    if not isinstance(endpoint, str) or not endpoint:
        ctx.error("SW-E112", f"use.catalogs has no catalog {catalog!r} with an endpoint", pointer,
                  hint=f"declare use.catalogs.{catalog}.endpoint.uri")  # fmt: skip
        return None
    return endpoint


def compile_external_function(ctx: TaskContext, task: Mapping[str, Any], call: str) -> ir.Node | None:
    """``call: name:version@catalog`` or ``call: <uri>``: fetch the definition, compile it."""
    pointer = ctx.pointer + "/call"
    base = _base(ctx)
    match = _CATALOGED.match(call)
    if match:
        root = _catalog_root(ctx, match["catalog"], pointer)
        if root is None:
            return None
        location = function_location(root, match["name"], match["version"], base)
        what = f"function {match['name']}:{match['version']} of catalog {match['catalog']!r}"
        # The operator's default catalog (DWF_DEFAULT_CATALOG) may be a local directory for any definition.
        trusted = match["catalog"] == "default" and root == os.environ.get(DEFAULT_CATALOG_ENV)
    elif "://" in call or call.endswith((".yaml", ".yml", ".json")):
        scheme = urlsplit(call).scheme.lower()
        if scheme not in ("", "http", "https", "file"):
            ctx.error("SW-E113", f"call {call!r}: functions are read from http(s):// or file:// URIs, not {scheme}://", pointer)
            return None
        location = call
        if not call.startswith(("http://", "https://")):
            path = call.removeprefix("file://")
            location = path if os.path.isabs(path) else os.path.join(base or os.getcwd(), path)
        what, trusted = "this function", False
    else:
        ctx.error("SW-E113", f"call {call!r}: a catalog function is written name:version@catalog", pointer,
                  hint="for example log:1.0.0@default, or declare the function under use.functions")  # fmt: skip
        return None
    if base is None and not trusted and not location.startswith(("http://", "https://")):
        # As for call resources: a definition that was not loaded from a file (one submitted to
        # a server) must not read the server's files.
        ctx.error("SW-E112", f"{what} is a local file, but this definition was not loaded from a file", pointer,
                  hint="serve the catalog over http(s), or use the default catalog (DWF_DEFAULT_CATALOG)")  # fmt: skip
        return None
    try:
        document = load_text(_fetch(location), location)
    except CatalogError as error:
        if error.unreachable:
            # Offline validation must not fail for a server that may well answer when the
            # workflow runs: warn, and fail the task (communication error) if it runs so.
            ctx.warning("SW-W100", f"{what}: {error}; the task fails when it runs unless the definition is compiled "
                        "again with the catalog reachable", pointer, hint=error.hint)  # fmt: skip
            problem = {"type": _COMMUNICATION, "status": 503, "title": "Catalog unreachable", "detail": f"{what}: {error}"}
            return ir.FailNode(id=ctx.id, error=ir.Expr.literal(_COMMUNICATION), status=503,
                               message=ir.Expr("jq", json.dumps(json.dumps(problem))))  # fmt: skip
        ctx.error("SW-E112", f"{what}: {error}", pointer, hint=error.hint)
        return None
    except DiagnosticError as error:
        ctx.compiler.diagnostics.extend(error.diagnostics)
        ctx.error("SW-E112", f"{what}: {location} is not valid YAML or JSON (see its problems)", pointer)
        return None
    return _compile_function(ctx, task, document, what)


def _compile_function(ctx: TaskContext, task: Mapping[str, Any], document: LoadedDocument, what: str) -> ir.Node | None:
    """The function (a task definition) compiled with its own file's positions; ``with`` is its input."""
    from .compile import SwCompiler, _Entry, task_kind
    from .compile import TaskContext as Context

    if not isinstance(document.data, dict) or task_kind(document.data) is None:
        ctx.compiler.diagnostics.append(document.diagnostic(
            "SW-E113", "a function definition is a task (run, call, set, do...)", "",
            hint="see the spec's catalog layout: functions/<name>/<version>/function.yaml"))  # fmt: skip
        ctx.error("SW-E112", f"{what} is not a task definition", ctx.pointer + "/call")
        return None
    problems = _validate_function(document)
    ctx.compiler.diagnostics.extend(problems)
    if any(d.is_error for d in problems):
        ctx.error("SW-E112", f"{what} is invalid (its problems are listed with its file)", ctx.pointer + "/call")
        return None
    compiler = SwCompiler(document, prefix=ctx.id + "|", shared=ctx.compiler.shared)
    fn_id = ctx.node_id("fn")
    entry = _Entry(str(task["call"]), 0, document.data, "", fn_id, fn_id)
    inner = Context(compiler, entry, [entry], None, fn_id + "#end", ir.Block(start=None), node_id=fn_id, id_prefix=fn_id + "|")
    nodes = inner.compile()
    ctx.compiler.diagnostics.extend(compiler.diagnostics)
    if nodes is None or compiler.has_errors:
        ctx.error("SW-E112", f"{what} does not compile (its problems are listed with its file)", ctx.pointer + "/call")
        return None
    from .tasks import function_call

    return function_call(ctx, task, nodes)


def _validate_function(document: LoadedDocument) -> list[Diagnostic]:
    """The function checked by the workflow schema, as the only task of a minimal workflow;
    its problems are positioned in the function's own file."""
    from .validate import validate_document

    prefix = "/do/0/function"
    header = {"dsl": "1.0.3", "namespace": "catalog", "name": "function", "version": "1.0.0"}
    wrapped = LoadedDocument({"document": header, "do": [{"function": document.data}]},
                             document.positions, document.source, document.file)  # fmt: skip
    found: list[Diagnostic] = []
    for problem in validate_document(wrapped):
        if problem.pointer == prefix or problem.pointer.startswith(prefix + "/"):
            pointer = problem.pointer[len(prefix):]
            found.append(document.diagnostic(problem.code, problem.message, pointer, severity=problem.severity, hint=problem.hint))
    return found


def _base(ctx: TaskContext) -> str | None:
    file = ctx.compiler.doc.file
    return os.path.dirname(os.path.abspath(file)) if file and not file.startswith("<") else None
