"""Load a workflow definition (YAML or JSON) into plain data plus a map of source positions.

Every format (Serverless Workflow, ASL, our DSL) starts here.  The result is plain data
(dict / list / str / int / float / bool / None) and a :class:`PositionMap` from JSON Pointer
to :class:`SourcePosition`, so that later stages can say *where* a problem is.

Why not ``yaml.safe_load``: PyYAML implements YAML 1.1, where ``on``/``yes``/``no`` are
booleans, ``017`` is octal and ``1:20`` is sexagesimal 80; it also drops positions and
silently keeps the last of two duplicate keys.  We let PyYAML (libyaml when available) only
*compose* the text into nodes with marks, and resolve plain scalars ourselves with the YAML 1.2
core schema.  JSON is parsed by the ``json`` module (exact values, exact error positions);
YAML composes the same text only to supply positions.

Diagnostic codes (stable; never reuse a retired number) are listed in :data:`LOAD_CODES`.

The package's modules, in the order a document goes through them: ``text`` (bytes to text,
character checks, positions), ``yaml12`` (composing with PyYAML, the YAML 1.2 core schema,
syntax errors), ``build`` (node graph to data), ``json_text`` (JSON values and positions);
``pointers`` and ``document`` hold the JSON Pointer helpers and the result types.  Import
from ``declarative_wf.loading`` only: the submodules are not a public API.
"""

from __future__ import annotations

import os
import re
from typing import Literal

import yaml
from yaml.nodes import Node, ScalarNode

from declarative_wf.diagnostics import DiagnosticError

from .build import _Builder, _finish, _measure
from .document import LoadedDocument, PositionMap, _error, _Limits
from .json_text import _load_json
from .pointers import escape_pointer_token, json_pointer, parse_pointer, pointer_join
from .text import _check_text, _check_yaml_characters, _decode, _empty, _Locator
from .yaml12 import _PLAIN, LIBYAML_AVAILABLE, _syntax_error, compose

__all__ = [
    "LOAD_CODES", "MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "LoadedDocument", "PositionMap",
    "escape_pointer_token", "json_pointer", "load_file", "load_text", "parse_pointer",
    "pointer_join",
]  # fmt: skip

LOAD_CODES: dict[str, str] = {
    "LOAD-E001": "the file cannot be read (missing, a directory, no permission)",
    "LOAD-E002": "the file is larger than the size limit",
    "LOAD-E003": "binary content (a NUL byte)",
    "LOAD-E004": "not UTF-8 (invalid bytes, a UTF-16/32 file, a lone surrogate)",
    "LOAD-E005": "a control character that YAML does not allow",
    "LOAD-E006": "empty document (nothing, or only comments)",
    "LOAD-E007": "YAML syntax error",
    "LOAD-E008": "tab character used for indentation",
    "LOAD-E009": "JSON syntax error",
    "LOAD-E010": "more than one YAML document in the file",
    "LOAD-E011": "the top-level value is not a mapping",
    "LOAD-E012": "duplicate key in a mapping",
    "LOAD-E013": "a mapping key that is not a string",
    "LOAD-E014": "unsupported tag, or a value that its tag does not allow",
    "LOAD-E015": "recursive alias (a node that contains itself)",
    "LOAD-E016": "too many nodes once aliases are expanded (billion laughs)",
    "LOAD-E017": "nesting too deep",
    "LOAD-W001": "'<<' is an ordinary key in YAML 1.2 (merge keys are not supported)",
}

MAX_BYTES = 64 * 1024 * 1024  # a workflow definition is kilobytes; this stops /dev/zero
MAX_NODES = 1_000_000  # after alias expansion
MAX_DEPTH = 256  # libyaml stops at 1000, the pure-Python composer recurses far earlier

Syntax = Literal["auto", "yaml", "json"]

# Which composer to use; tests flip this to run both the libyaml and the pure-Python one.
_USE_LIBYAML: bool = LIBYAML_AVAILABLE


# --------------------------------------------------------------------------- entry points


def load_file(
    path: str | os.PathLike[str], *, syntax: Syntax = "auto", max_bytes: int = MAX_BYTES,
    max_nodes: int = MAX_NODES, max_depth: int = MAX_DEPTH,
) -> LoadedDocument:  # fmt: skip
    """Read and parse a definition file; raise :class:`DiagnosticError` if it is invalid.

    Positions name the file as ``path`` was given (relative stays relative, as
    ``FILE:LINE:COL`` output should).  ``syntax="auto"``: ``*.json`` is JSON, otherwise a
    text starting with ``{`` or ``[`` is tried as JSON first, and anything else is YAML.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise _error("LOAD-E001", f"cannot read the file: {exc.strerror or exc}", name) from None
    if len(raw) > max_bytes:
        message = f"the file is larger than {max_bytes} bytes; is it a workflow definition?"
        raise _error("LOAD-E002", message, name)
    return _load(_decode(raw, name), name, syntax, _Limits(max_nodes, max_depth))


def load_text(
    text: str | bytes, file: str = "<string>", *, syntax: Syntax = "auto",
    max_nodes: int = MAX_NODES, max_depth: int = MAX_DEPTH,
) -> LoadedDocument:  # fmt: skip
    """Parse a definition held in memory (bytes are decoded as UTF-8); see :func:`load_file`."""
    if isinstance(text, bytes):
        text = _decode(text, file)
    return _load(text, file, syntax, _Limits(max_nodes, max_depth))


# A text that fails as JSON is still reported as JSON if it starts the way JSON does.
_LOOKS_LIKE_JSON = re.compile(r'\s*(?:\[|\{\s*["}])')


def _load(text: str, file: str, syntax: Syntax, limits: _Limits) -> LoadedDocument:
    _check_text(text, file)
    if syntax == "json" or (syntax == "auto" and file.lower().endswith(".json")):
        return _load_json(text, file, limits, _compose)
    if syntax == "yaml" or text.lstrip(" \t\r\n")[:1] not in ("{", "["):
        return _load_yaml(text, file, limits)
    # Starts like JSON: JSON first (exact values and errors); a YAML flow mapping otherwise.
    try:
        return _load_json(text, file, limits, _compose)
    except DiagnosticError as json_error:
        if json_error.diagnostics[0].code != "LOAD-E009":
            raise  # valid JSON with a problem (duplicate key...): not a YAML question
        try:
            return _load_yaml(text, file, limits)
        except DiagnosticError:
            if _LOOKS_LIKE_JSON.match(text):
                raise json_error from None
            raise


def _compose(text: str) -> Node | None:
    """The only document's root node (None if there is none), by the composer chosen above."""
    return compose(text, _USE_LIBYAML)


# --------------------------------------------------------------------------- YAML


def _load_yaml(text: str, file: str, limits: _Limits) -> LoadedDocument:
    _check_yaml_characters(text, file)
    locate = _Locator(text, file)
    try:
        root = _compose(text)
    except yaml.MarkedYAMLError as exc:
        if "maximum nesting depth" in (exc.problem or "") and exc.problem_mark is not None:
            where = locate(exc.problem_mark)
            raise _error("LOAD-E017", "the document is nested too deeply", where) from None
        raise DiagnosticError([_syntax_error(exc, text, locate)]) from None
    except yaml.YAMLError as exc:
        raise DiagnosticError([_syntax_error(exc, text, locate)]) from None
    except RecursionError:  # the pure-Python composer recurses once per nesting level
        raise _error("LOAD-E017", "the document is nested too deeply", file) from None
    if root is None:
        raise _empty(file, only_comments=True)
    if isinstance(root, ScalarNode) and root.tag == _PLAIN and root.value == "":
        raise _empty(file, only_comments=False)  # only "---" (and comments)
    _measure(root, locate, limits)
    builder = _Builder(locate)
    data = builder.build(root)
    return _finish(data, builder.problems, builder.positions, text, file, "yaml")
