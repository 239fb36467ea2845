"""``${ ... }`` in DSL values: finding expressions in strings, compiling them to IR expressions,
and checking them (syntax, functions, names) with positions inside the string.

The one rule users learn: a string of the form ``"${ expr }"`` is a JMESPath expression and
keeps the JSON type of its result; ``${ ... }`` inside a longer string is interpolated as text;
``$${`` is a literal ``${``; everything else is literal. Interpolation compiles to plain JMESPath
(``join('', [...])``), so the interpreter needs nothing DSL-specific.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import jmespath.exceptions
from jmespath.functions import Functions

from declarative_wf.diagnostics import quote, suggest
from declarative_wf.expressions.evaluate import embed
from declarative_wf.ir import Expr
from declarative_wf.loading import pointer_join

from .report import Reporter

__all__ = ["ROOT_NAMES", "ExpressionCompiler", "Piece", "TemplateSyntaxError", "split_template"]

#: What every expression sees besides the variables.
ROOT_NAMES = frozenset({"input", "result", "context"})
_FUNCTIONS: dict[str, Any] = Functions.FUNCTION_TABLE


@dataclass(frozen=True)
class Piece:
    """Literal text, or the source of an expression; ``offset`` is where it starts in the string."""

    text: str
    is_expr: bool
    offset: int


class TemplateSyntaxError(ValueError):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def split_template(text: str) -> list[Piece]:
    """Literal pieces and ``${ ... }`` expressions of ``text``, in order."""
    pieces: list[Piece] = []
    literal: list[str] = []
    literal_start = 0
    i = 0
    while i < len(text):
        if text.startswith("$${", i):
            literal.append("${")
            i += 3
        elif text.startswith("${", i):
            if literal:
                pieces.append(Piece("".join(literal), False, literal_start))
                literal = []
            end = _closing_brace(text, i + 2)
            source = text[i + 2 : end]
            if not source.strip():
                raise TemplateSyntaxError("empty expression '${ }'", i)
            pieces.append(Piece(source, True, i + 2))
            i = literal_start = end + 1
        else:
            if not literal:
                literal_start = i
            literal.append(text[i])
            i += 1
    if literal:
        pieces.append(Piece("".join(literal), False, literal_start))
    return pieces


def _closing_brace(text: str, start: int) -> int:
    """Index of the ``}`` that closes an expression starting at ``start``; JMESPath's own
    braces (multi-select hashes) and quoted strings may contain ``}``."""
    depth, i, quote_char = 0, start, ""
    while i < len(text):
        char = text[i]
        if quote_char:
            if char == "\\":
                i += 2
                continue
            if char == quote_char:
                quote_char = ""
        elif char in "'\"`":
            quote_char = char
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    raise TemplateSyntaxError("unterminated '${': no closing '}'", start - 2)


def json_literal(text: str) -> str:
    """A JMESPath literal for ``text`` that survives any character (backticks, quotes, \\)."""
    return "`" + json.dumps(text).replace("`", "\\`") + "`"


def _is_marker(value: Any) -> bool:
    """Would the template evaluator mistake this literal for an embedded expression?"""
    if isinstance(value, dict):
        return set(value) == {"$expr"} or any(_is_marker(item) for item in value.values())
    if isinstance(value, list):
        return any(_is_marker(item) for item in value)
    return False


@dataclass(frozen=True)
class _NameCheck:
    """An expression whose root names are checked once every variable of the file is known."""

    parsed: dict[str, Any]
    source: str
    pointer: str
    value: str
    offset: int
    extra: frozenset[str]


@dataclass
class ExpressionCompiler:
    report: Reporter
    pending: list[_NameCheck] = field(default_factory=list)

    # -- values --------------------------------------------------------------------------------

    def template(self, raw: Any, pointer: str, extra: frozenset[str] = frozenset()) -> Expr:
        """Any JSON value with expressions in its strings → a literal, one JMESPath
        expression, or a template."""
        value, dynamic = self._walk(raw, pointer, extra)
        if not dynamic:
            return Expr.literal(value)
        if isinstance(value, dict) and set(value) == {"$expr"}:
            return Expr(value["$expr"]["lang"], value["$expr"]["value"])
        return Expr("template", value)

    def _walk(self, raw: Any, pointer: str, extra: frozenset[str]) -> tuple[Any, bool]:
        if isinstance(raw, str):
            return self._string(raw, pointer, extra)
        if isinstance(raw, dict):
            items = {key: self._walk(item, pointer_join(pointer, key), extra) for key, item in raw.items()}
            dynamic = any(flag for _, flag in items.values())
            if not dynamic:
                return {key: value for key, (value, _) in items.items()}, False
            if set(raw) == {"$expr"}:
                # Compiled templates mark expressions with exactly this shape.
                message = 'a mapping whose only key is "$expr" cannot contain expressions'
                self.report.error("DSL-E003", message, pointer, hint='rename the key, or add another one')
                return raw, False
            return {key: self._protect(value, flag) for key, (value, flag) in items.items()}, True
        if isinstance(raw, list):
            elements = [self._walk(item, pointer_join(pointer, index), extra) for index, item in enumerate(raw)]
            if not any(flag for _, flag in elements):
                return [value for value, _ in elements], False
            return [self._protect(value, flag) for value, flag in elements], True
        return raw, False

    @staticmethod
    def _protect(value: Any, dynamic: bool) -> Any:
        # A literal that looks like an embedded expression is embedded as a literal instead.
        return embed(Expr.literal(value)) if not dynamic and _is_marker(value) else value

    def _string(self, text: str, pointer: str, extra: frozenset[str]) -> tuple[Any, bool]:
        pieces = self._pieces(text, pointer)
        if pieces is None:
            return text, False
        expressions = [piece for piece in pieces if piece.is_expr]
        if not expressions:
            return "".join(piece.text for piece in pieces), False
        # A list, not a generator: every piece is checked, so that all its errors are reported.
        valid = all([self.check(piece.text, pointer, text, piece.offset, extra) for piece in expressions])  # noqa: C419
        if not valid:
            return text, False
        if len(expressions) == 1 and all(not p.text.strip() for p in pieces if not p.is_expr):
            return embed(Expr("jmespath", expressions[0].text.strip())), True
        parts = [f"to_string(({p.text.strip()}))" if p.is_expr else json_literal(p.text) for p in pieces]
        return embed(Expr("jmespath", f"join('', [{', '.join(parts)}])")), True

    def _pieces(self, text: str, pointer: str) -> list[Piece] | None:
        try:
            return split_template(text)
        except TemplateSyntaxError as error:
            where = self.report.in_string(pointer, text, error.offset)
            hint = "close it with '}', or write '$${' for a literal '${'"
            self.report.error("DSL-E014", error.message, pointer, position=where, hint=hint)
            return None

    def condition(self, raw: Any, pointer: str, what: str, extra: frozenset[str] = frozenset()) -> Expr | None:
        """A value that must be exactly one expression (``if``, ``until``, ``where``)."""
        if not isinstance(raw, str):
            return None  # the schema said what is wrong
        pieces = self._pieces(raw, pointer)
        if pieces is None:
            return None
        expressions = [piece for piece in pieces if piece.is_expr]
        literal = "".join(piece.text for piece in pieces if not piece.is_expr)
        if len(expressions) != 1 or literal.strip():
            example = raw if not expressions else "..."
            self.report.error(
                "DSL-E013", f"{what} must be one expression written as \"${{ ... }}\"", pointer,
                hint=f'write "${{ {example} }}"' if not expressions else "put the whole condition inside one ${ ... }",
            )
            return None
        piece = expressions[0]
        if not self.check(piece.text, pointer, raw, piece.offset, extra):
            return None
        return Expr("jmespath", piece.text.strip())

    # -- checking ------------------------------------------------------------------------------

    def check(self, source: str, pointer: str, value: str, offset: int, extra: frozenset[str]) -> bool:
        """Parses ``source`` (found at ``offset`` in the string ``value`` at ``pointer``) and
        checks its functions now; its names are checked by :meth:`check_names` later."""
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                parsed = jmespath.compile(source)
        except jmespath.exceptions.JMESPathError as error:
            at, message = _describe_parse_error(error, source)
            self.report.error("DSL-E010", message, pointer, position=self.report.in_string(pointer, value, offset + at))
            return False
        except (RecursionError, ValueError, TypeError, OverflowError) as error:  # pathological input
            self.report.error("DSL-E010", f"invalid expression: {error}", pointer)
            return False
        if caught:
            # JEP-12 deprecated `text` (not JSON) literals; they would warn at every run.
            at = _bad_literal(source)
            message = "a literal in backticks must be JSON: write 'text' for a string (or `\"text\"`)"
            self.report.error("DSL-E010", message, pointer, position=self.report.in_string(pointer, value, offset + at))
            return False
        ok = True
        for node in _walk_nodes(parsed.parsed):
            if node.get("type") != "function_expression":
                continue
            name = str(node.get("value"))
            at = offset + _find(source, name, call=True)
            where = self.report.in_string(pointer, value, at)
            spec = _FUNCTIONS.get(name)
            if spec is None:
                hint = suggest(name, _FUNCTIONS)
                message = f"unknown function {name}()" + (f" ({hint})" if hint else "")
                self.report.error("DSL-E011", message, pointer, position=where, hint="the JMESPath functions are listed in docs/dsl.md")
                ok = False
                continue
            signature = spec["signature"]
            count = len(node.get("children", []))
            variadic = bool(signature) and bool(signature[-1].get("variadic"))
            if (variadic and count < len(signature)) or (not variadic and count != len(signature)):
                expected = f"at least {len(signature)}" if variadic else str(len(signature))
                plural = "" if len(signature) == 1 and not variadic else "s"
                message = f"{name}() takes {expected} argument{plural}, not {count}"
                self.report.error("DSL-E011", message, pointer, position=where)
                ok = False
        if ok:
            self.pending.append(_NameCheck(parsed.parsed, source, pointer, value, offset, extra))
        return ok

    def check_names(self, variables: set[str]) -> None:
        """Every name an expression reads at its top level must be a root name or a variable:
        a misspelt name would otherwise silently be null."""
        for item in self.pending:
            known = ROOT_NAMES | variables | item.extra
            seen: set[str] = set()
            for name in _root_fields(item.parsed):
                if name in known or name in seen:
                    continue
                seen.add(name)
                hint = suggest(name, known)
                names = ", ".join(sorted(known))
                message = f"unknown name {quote(name)} in expression" + (f" ({hint})" if hint else "")
                where = self.report.in_string(item.pointer, item.value, item.offset + _find(item.source, name))
                self.report.error("DSL-E012", message, item.pointer, position=where, hint=f"expressions here can use: {names}")


def _describe_parse_error(error: Exception, source: str) -> tuple[int, str]:
    if isinstance(error, jmespath.exceptions.EmptyExpressionError):
        return 0, "empty expression"
    position = getattr(error, "lex_position", 0) or 0
    if isinstance(error, jmespath.exceptions.IncompleteExpressionError):
        return len(source), "invalid expression: it ends too early (an operator, '[' or '(' without what follows)"
    if isinstance(error, jmespath.exceptions.LexerError):
        detail = getattr(error, "message", "") or "bad token"
        if detail.startswith("Unknown token"):
            detail = f"unexpected character {quote(detail.split()[-1])}"
        return position, f"invalid expression: {detail[:1].lower()}{detail[1:]}"
    if isinstance(error, jmespath.exceptions.ParseError):
        token = getattr(error, "token_value", None)
        detail = str(getattr(error, "msg", "") or "")
        if "got: eof" in detail or token in (None, ""):
            return position, "invalid expression: it ends too early"
        if "literal" in detail.lower() or (token and str(token)[:1] in "'\"`"):
            return position, f"invalid expression: unexpected {quote(str(token))} (string literals are 'text', JSON literals `1`)"
        return position, f"invalid expression: unexpected {quote(str(token))}"
    return position, f"invalid expression: {error}"


def _bad_literal(source: str) -> int:
    """Where the first backtick literal that is not JSON starts."""
    for match in re.finditer(r"`((?:\\.|[^`\\])*)`", source):
        try:
            json.loads(match.group(1).replace("\\`", "`"))
        except ValueError:
            return match.start()
    return 0


def _walk_nodes(node: Any) -> Iterator[dict[str, Any]]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            yield current
            stack.extend(child for child in current.get("children", []) if isinstance(child, dict))


def _root_fields(node: Any) -> Iterator[str]:
    """Names read from the root object (where ``input``, ``result`` and variables live):
    the left side of paths, projections and pipes; not what is evaluated per element."""
    stack: list[tuple[Any, bool]] = [(node, True)]
    while stack:
        current, at_root = stack.pop()
        if not isinstance(current, dict):
            continue
        kind = current.get("type")
        children = [child for child in current.get("children", []) if isinstance(child, dict)]
        if kind == "field":
            if at_root:
                yield str(current.get("value"))
        elif kind in ("subexpression", "index_expression", "projection", "value_projection", "filter_projection", "pipe"):
            if children:
                stack.append((children[0], at_root))
                stack.extend((child, False) for child in children[1:])
        elif kind == "expref":
            stack.extend((child, False) for child in children)
        else:
            stack.extend((child, at_root) for child in children)


def _find(source: str, name: str, *, call: bool = False) -> int:
    """Where ``name`` first appears in ``source`` as a name (best effort, for positions)."""
    pattern = rf"(?<![\w.\"']){re.escape(name)}(?![\w\"])" + (r"\s*\(" if call else "")
    match = re.search(pattern, source) or re.search(re.escape(json.dumps(name)), source)
    return match.start() if match else 0
