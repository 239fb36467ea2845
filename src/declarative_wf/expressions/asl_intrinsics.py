"""The 18 ASL intrinsic functions (``States.Format(...)`` and friends), parsed and evaluated.

Two steps, so a definition is checked once and evaluated many times:

* :func:`parse_intrinsic` turns the text of a ``key.$`` value into an :class:`IntrinsicCall`
  tree, or raises :class:`IntrinsicSyntaxError` with the column of the problem (bad syntax,
  an unknown function with the nearest known name, a wrong argument count, an escape AWS
  does not allow, nesting deeper than 10).
* :func:`evaluate` computes the value. Run-time failures raise :class:`IntrinsicFailure`
  (``States.IntrinsicFailure``) or, for a path that selects nothing,
  :class:`~declarative_wf.expressions.asl_paths.PathNotFound` (``States.Runtime``).

Evaluation is a pure function of its arguments: ``States.UUID`` and an unseeded
``States.MathRandom`` take their randomness from ``random_source``, which the orchestrator
derives from the instance so that a replay sees the same values. A seeded
``States.MathRandom`` uses Java's ``java.util.Random`` algorithm (see :class:`JavaRandom`).

Behaviour pinned by real AWS executions (``shared/corpus/asl-aws-recorded``) is noted
where it is not obvious; the rest follows the AWS developer guide.
"""

from __future__ import annotations

import difflib
import functools
import importlib.resources
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from .asl_intrinsic_functions import FUNCTIONS, FunctionError, Invocation, JavaRandom, RandomSource
from .asl_paths import AslRuntimeError, PathKind, PathSyntaxError, compile_path, resolve_path

__all__ = [
    "FUNCTION_ARITY",
    "MAX_NESTING",
    "Argument",
    "IntrinsicCall",
    "IntrinsicFailure",
    "IntrinsicSyntaxError",
    "JavaRandom",
    "Literal",
    "PathReference",
    "RandomSource",
    "StringLiteral",
    "evaluate",
    "parse_intrinsic",
]

#: Allowed argument counts (minimum, maximum or None for "any number").
FUNCTION_ARITY: Mapping[str, tuple[int, int | None]] = {
    "States.Format": (1, None),
    "States.StringToJson": (1, 1),
    "States.JsonToString": (1, 1),
    "States.Array": (0, None),
    "States.ArrayPartition": (2, 2),
    "States.ArrayContains": (2, 2),
    "States.ArrayRange": (3, 3),
    "States.ArrayGetItem": (2, 2),
    "States.ArrayLength": (1, 1),
    "States.ArrayUnique": (1, 1),
    "States.Base64Encode": (1, 1),
    "States.Base64Decode": (1, 1),
    "States.Hash": (2, 2),
    "States.JsonMerge": (3, 3),
    "States.MathRandom": (2, 3),
    "States.MathAdd": (2, 2),
    "States.StringSplit": (2, 2),
    "States.UUID": (0, 0),
}

#: AWS allows up to 10 intrinsic functions nested within a field.
MAX_NESTING = 10

# --------------------------------------------------------------------------- the tree


@dataclass(frozen=True)
class Literal:
    """A number, ``true``, ``false`` or ``null`` written in the call."""

    value: int | float | bool | None
    position: int  # 0-based offset in the parsed text


@dataclass(frozen=True)
class StringLiteral:
    """A single-quoted string; ``value`` is unescaped, ``source`` is the text between quotes.

    ``States.Format`` needs ``source``: an escaped ``\\{\\}`` is a literal ``{}``, not a
    placeholder.
    """

    value: str
    source: str
    position: int


@dataclass(frozen=True)
class PathReference:
    """``$...`` (state input), ``$$...`` (context object) or ``$name...`` (variable)."""

    path: str
    kind: PathKind
    position: int


@dataclass(frozen=True)
class IntrinsicCall:
    """``States.Name(arg, ...)``; ``text`` is the call as written (for messages)."""

    name: str
    args: tuple[Argument, ...]
    position: int
    text: str


Argument: TypeAlias = Literal | StringLiteral | PathReference | IntrinsicCall


# --------------------------------------------------------------------------- errors


class IntrinsicSyntaxError(ValueError):
    """The text is not a valid intrinsic function call.

    ``position`` is the 0-based offset and ``column`` the 1-based column of the problem in
    the text given to :func:`parse_intrinsic`; ``suggestion`` is the nearest known function
    name when the name was not recognised.
    """

    def __init__(
        self, message: str, text: str, position: int, suggestion: str | None = None
    ) -> None:
        self.message = message
        self.text = text
        self.position = max(0, min(position, len(text)))
        self.column = self.position + 1
        self.suggestion = suggestion
        super().__init__(f"{message} (column {self.column})")


class IntrinsicFailure(AslRuntimeError):
    """An intrinsic function failed at run time (``States.IntrinsicFailure``, catchable).

    ``function`` is the function name and ``detail`` the bare reason; ``cause`` combines
    them with the call as written.
    """

    error = "States.IntrinsicFailure"

    def __init__(self, call: IntrinsicCall, detail: str) -> None:
        self.function = call.name
        self.detail = detail
        super().__init__(f"Invalid arguments in {call.name}: {detail} (in '{call.text}')")


# --------------------------------------------------------------------------- parsing


@functools.lru_cache(maxsize=4096)
def parse_intrinsic(text: str) -> IntrinsicCall:
    """Parse ``text`` (such as ``"States.Format('{}', $.a)"``) into an :class:`IntrinsicCall`.

    Raises :class:`IntrinsicSyntaxError`, and nothing else, for any text that is not a
    valid call. Results are cached (the tree is immutable), so callers may parse the same
    field on every evaluation.
    """
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text) from None
    except LarkError as exc:  # defensive: lark's other errors are not expected here
        raise IntrinsicSyntaxError(str(exc), text, 0) from None
    call_tree = tree.children[0]
    assert isinstance(call_tree, Tree)
    _check_nesting(call_tree, text)
    return _build_call(call_tree, text)


@functools.cache
def _parser() -> Lark:
    # LALR: the grammar is LALR(1), and lark's LALR parser is far faster than Earley.
    return Lark(_grammar_text(), parser="lalr", propagate_positions=True, maybe_placeholders=False)


def _grammar_text() -> str:
    """The grammar shipped as package data, else the checkout's top-level ``grammars/``."""
    try:
        packaged = importlib.resources.files("declarative_wf") / "grammars" / "asl_intrinsics.lark"
        if packaged.is_file():
            return packaged.read_text(encoding="utf-8")
    except (ModuleNotFoundError, OSError):
        pass
    checkout = Path(__file__).resolve().parents[3] / "grammars" / "asl_intrinsics.lark"
    return checkout.read_text(encoding="utf-8")


_TERMINAL_NAMES = {
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
    "FUNC_NAME": "a function name",
    "STRING": "a string",
    "NUMBER": "a number",
    "PATH": "a path",
    "TRUE": "true",
    "FALSE": "false",
    "NULL": "null",
    "$END": "the end",
}


def _syntax_error(exc: UnexpectedInput, text: str) -> IntrinsicSyntaxError:
    if isinstance(exc, UnexpectedCharacters):
        return IntrinsicSyntaxError(
            f"unexpected character {exc.char!r}", text, exc.pos_in_stream or 0
        )
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        expected = sorted(_TERMINAL_NAMES.get(name, name) for name in exc.expected)
        wanted = f"; expected {', '.join(expected)}" if expected else ""
        if token.type == "$END":
            return IntrinsicSyntaxError(f"unexpected end of text{wanted}", text, len(text))
        if exc.expected == {"FUNC_NAME"} and token.start_pos == 0:
            wanted = "; an intrinsic must be a function call such as States.Format(...)"
        return IntrinsicSyntaxError(
            f"unexpected {token.value!r}{wanted}", text, token.start_pos or 0
        )
    return IntrinsicSyntaxError("unexpected end of text", text, len(text))


def _check_nesting(root: Tree[Token], text: str) -> None:
    # Iterative, so that absurdly deep input cannot exhaust the Python stack before the
    # limit is enforced (the tree conversion below is recursive).
    stack: list[tuple[Tree[Token], int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            name = node.children[0]
            position = name.start_pos if isinstance(name, Token) else 0
            raise IntrinsicSyntaxError(
                f"intrinsic functions nest more than {MAX_NESTING} deep", text, position or 0
            )
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))


def _build_call(node: Tree[Token], text: str) -> IntrinsicCall:
    name_token = node.children[0]
    assert isinstance(name_token, Token)
    name = str(name_token)
    position = name_token.start_pos or 0
    if name not in FUNCTION_ARITY:
        raise _unknown_function(name, text, position)
    args = tuple(_build_argument(child, text) for child in node.children[1:])
    _check_arity(name, len(args), text, position)
    return IntrinsicCall(name, args, position, text[position : node.meta.end_pos])


def _unknown_function(name: str, text: str, position: int) -> IntrinsicSyntaxError:
    suggestion = _nearest_function(name)
    hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
    return IntrinsicSyntaxError(
        f"unknown intrinsic function {name!r}{hint}", text, position, suggestion
    )


def _nearest_function(name: str) -> str | None:
    """The known name ``name`` was probably meant to be, compared without ``States.``.

    Comparing whole names would let the shared prefix make every name look close.
    """
    by_folded = {known.casefold(): known for known in FUNCTION_ARITY}
    bare = name.removeprefix("States.")
    exact = by_folded.get(f"states.{bare}".casefold())
    if exact:
        return exact
    bare_names = {known.removeprefix("States."): known for known in FUNCTION_ARITY}
    close = difflib.get_close_matches(bare, bare_names, n=1, cutoff=0.75)
    return bare_names[close[0]] if close else None


def _check_arity(name: str, count: int, text: str, position: int) -> None:
    low, high = FUNCTION_ARITY[name]
    if low <= count and (high is None or count <= high):
        return
    if high is None:
        wanted = f"at least {low} argument{'s' if low != 1 else ''}"
    elif low == high:
        wanted = f"{low} argument{'s' if low != 1 else ''}"
    else:
        wanted = f"{low} to {high} arguments"
    raise IntrinsicSyntaxError(f"{name} takes {wanted}, got {count}", text, position)


def _build_argument(child: Tree[Token] | Token, text: str) -> Argument:
    if isinstance(child, Tree):
        return _build_call(child, text)
    position = child.start_pos or 0
    kind = child.type
    if kind == "STRING":
        source = str(child)[1:-1]
        return StringLiteral(_unescape(source, text, position + 1), source, position)
    if kind == "NUMBER":
        return Literal(_number(str(child), text, position), position)
    if kind == "PATH":
        return _path_reference(str(child), text, position)
    return Literal({"TRUE": True, "FALSE": False, "NULL": None}[kind], position)


_ALLOWED_ESCAPES = frozenset("'{}\\")


def _unescape(source: str, text: str, offset: int) -> str:
    """Resolve ``\\'`` ``\\{`` ``\\}`` ``\\\\``; AWS treats any other backslash as an error."""
    out: list[str] = []
    index = 0
    while index < len(source):
        char = source[index]
        if char != "\\":
            out.append(char)
            index += 1
            continue
        escaped = source[index + 1]  # the grammar guarantees a character after '\'
        if escaped not in _ALLOWED_ESCAPES:
            sequence = "\\" + escaped
            raise IntrinsicSyntaxError(
                f"invalid escape '{sequence}' in a string; only \\' \\{{ \\}} and \\\\ are allowed",
                text,
                offset + index,
            )
        out.append(escaped)
        index += 2
    return "".join(out)


def _number(token: str, text: str, position: int) -> int | float:
    if not any(mark in token for mark in ".eE"):
        return int(token)
    value = float(token)
    if math.isinf(value):
        raise IntrinsicSyntaxError(f"number {token} is out of range", text, position)
    return value


def _path_reference(path: str, text: str, position: int) -> PathReference:
    try:
        compiled = compile_path(path)
    except PathSyntaxError as exc:
        raise IntrinsicSyntaxError(exc.message, text, position + exc.column - 1) from None
    return PathReference(path, compiled.kind, position)


# --------------------------------------------------------------------------- evaluation


def evaluate(
    call: IntrinsicCall,
    *,
    input: Any,  # the ASL name for the state input
    context: Any,
    variables: Mapping[str, Any],
    random_source: RandomSource,
) -> Any:
    """The value of ``call``; arguments are evaluated left to right, innermost first.

    Raises :class:`IntrinsicFailure` (``States.IntrinsicFailure``) for bad argument values
    and :class:`~declarative_wf.expressions.asl_paths.PathNotFound` (``States.Runtime``)
    for a path argument that selects nothing. The result never shares mutable structure
    with the input except where a function returns an argument value unchanged
    (``States.Array``, ``States.ArrayGetItem``, ...); callers must not mutate it in place.
    """
    env = _Env(input, context, variables, random_source)
    return env.call(call)


@dataclass(frozen=True)
class _Env:
    input: Any
    context: Any
    variables: Mapping[str, Any]
    random_source: RandomSource

    def call(self, call: IntrinsicCall) -> Any:
        values = [self.argument(arg) for arg in call.args]
        first = call.args[0] if call.args else None
        template = first.source if isinstance(first, StringLiteral) else None
        try:
            return FUNCTIONS[call.name](Invocation(call.name, values, template, self.random_source))
        except FunctionError as exc:
            raise IntrinsicFailure(call, exc.detail) from None

    def argument(self, arg: Argument) -> Any:
        if isinstance(arg, IntrinsicCall):
            return self.call(arg)
        if isinstance(arg, PathReference):
            return resolve_path(arg.path, self.input, self.context, self.variables)
        return arg.value


assert FUNCTIONS.keys() == FUNCTION_ARITY.keys()
