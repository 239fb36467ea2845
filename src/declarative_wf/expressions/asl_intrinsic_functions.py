"""The bodies of the 18 ASL intrinsic functions, on already-evaluated argument values.

:mod:`declarative_wf.expressions.asl_intrinsics` parses calls and evaluates their arguments,
then calls ``FUNCTIONS[name](invocation)``. A function rejects bad values by raising
:class:`FunctionError` with a short reason; the caller turns it into
``States.IntrinsicFailure`` naming the call. Keeping this module free of the parser keeps
the dependency one-way.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .asl_paths import java_double_text, json_text, json_type

__all__ = [
    "FUNCTIONS",
    "FunctionError",
    "Invocation",
    "JavaRandom",
    "RandomSource",
    "java_round",
    "json_key",
]

# Documented limits (AWS developer guide, "Intrinsic functions").
_MAX_TEXT_CHARS = 10_000  # Base64Encode, Base64Decode, Hash
_MAX_RANGE_ITEMS = 1000  # ArrayRange
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1  # MathAdd
_HASH_ALGORITHMS: Mapping[str, Callable[[bytes], Any]] = {
    "MD5": hashlib.md5,
    "SHA-1": hashlib.sha1,
    "SHA-256": hashlib.sha256,
    "SHA-384": hashlib.sha384,
    "SHA-512": hashlib.sha512,
}


class FunctionError(Exception):
    """A function rejected its argument values; ``detail`` says why."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class RandomSource(Protocol):
    """Replay-safe randomness supplied by the orchestrator."""

    def uuid(self) -> str:
        """A version 4 UUID in its canonical 36-character text form."""
        ...

    def random(self) -> float:
        """A float in [0.0, 1.0)."""
        ...


@dataclass(frozen=True)
class Invocation:
    """One call of an intrinsic function, its arguments already evaluated."""

    name: str
    values: list[Any]
    #: The raw text between the quotes when the first argument was a string literal
    #: (``States.Format`` needs it: an escaped ``\\{\\}`` is not a placeholder).
    template_source: str | None
    random_source: RandomSource

    def fail(self, detail: str) -> FunctionError:
        return FunctionError(detail)

    def array(self, index: int) -> list[Any]:
        value = self.values[index]
        if not isinstance(value, list):
            raise self.fail(f"argument {index + 1} must be an array, got {describe(value)}")
        return value

    def string(self, index: int, *, max_chars: int | None = None) -> str:
        value = self.values[index]
        if not isinstance(value, str):
            raise self.fail(f"argument {index + 1} must be a string, got {describe(value)}")
        if max_chars is not None and len(value) > max_chars:
            raise self.fail(
                f"argument {index + 1} is {len(value)} characters long; the limit is {max_chars}"
            )
        return value

    def number(self, index: int) -> int | float:
        value = self.values[index]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(f"argument {index + 1} must be a number, got {describe(value)}")
        return value

    def rounded(self, index: int) -> int:
        """AWS rounds non-integer arguments "to the nearest integer", half up like Java."""
        return java_round(self.number(index))

    def integer(self, index: int) -> int:
        value = self.number(index)
        if isinstance(value, float):
            if not value.is_integer():
                raise self.fail(
                    f"argument {index + 1} must be an integer, got {java_double_text(value)}"
                )
            return int(value)
        return value

    def obj(self, index: int) -> Mapping[str, Any]:
        value = self.values[index]
        if not isinstance(value, Mapping):
            raise self.fail(f"argument {index + 1} must be a JSON object, got {describe(value)}")
        return value


# --------------------------------------------------------------------------- the functions


def _format(c: Invocation) -> str:
    if c.template_source is not None:
        pieces = _template_pieces(c.template_source, escapes=True)
    else:
        pieces = _template_pieces(c.string(0), escapes=False)
    values = c.values[1:]
    placeholders = sum(piece is None for piece in pieces)
    if placeholders != len(values):
        raise c.fail(
            f"the format string has {placeholders} placeholder{'s' if placeholders != 1 else ''} "
            f"but {len(values)} {'value was' if len(values) == 1 else 'values were'} given"
        )
    rendered = iter(_format_value(value) for value in values)
    return "".join(next(rendered) if piece is None else piece for piece in pieces)


def _template_pieces(template: str, *, escapes: bool) -> list[str | None]:
    """Split a template into literal text and ``None`` for each ``{}`` placeholder.

    In a string literal, an escaped ``\\{`` or ``\\}`` is a literal brace, never part of a
    placeholder; a lone ``{`` or ``}`` is literal text too.
    """
    pieces: list[str | None] = []
    text: list[str] = []
    index = 0
    while index < len(template):
        char = template[index]
        if escapes and char == "\\" and index + 1 < len(template):
            text.append(template[index + 1])
            index += 2
        elif template.startswith("{}", index):
            pieces.extend(["".join(text), None])
            text.clear()
            index += 2
        else:
            text.append(char)
            index += 1
    pieces.append("".join(text))
    return pieces


def _format_value(value: Any) -> str:
    """How AWS prints a value in ``States.Format``: Java's ``toString`` of the value.

    Pinned by the corpus: strings are inserted bare, ``null`` as ``null``, and an object
    ``{"Arg1": 1, "Arg2": []}`` as ``{Arg1=1, Arg2=[]}`` (Java's ``Map.toString``).
    """
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key}={_format_value(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_format_value(item) for item in value) + "]"
    return json_text(value)


def _string_to_json(c: Invocation) -> Any:
    value = c.values[0]
    if value is None:
        return None
    text = c.string(0)
    if not text.strip():
        return None  # pinned by the corpus: "" and " " give null
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise c.fail(f"the string is not valid JSON ({exc})") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _json_to_string(c: Invocation) -> str:
    return json_text(c.values[0])


def _array(c: Invocation) -> list[Any]:
    return list(c.values)


def _array_partition(c: Invocation) -> list[list[Any]]:
    items, size = c.array(0), c.rounded(1)
    if size <= 0:
        raise c.fail(f"the chunk size must be a positive integer, got {size}")
    return [items[start : start + size] for start in range(0, len(items), size)]


def _array_contains(c: Invocation) -> bool:
    items, key = c.array(0), json_key(c.values[1])
    return any(json_key(item) == key for item in items)


def _array_range(c: Invocation) -> list[int]:
    first, last, step = c.rounded(0), c.rounded(1), c.rounded(2)
    if step == 0:
        raise c.fail("the step must not be 0")
    # Count before building: rounded arguments can be astronomically large.
    count = max(0, (last - first) // step + 1)
    if count > _MAX_RANGE_ITEMS:
        raise c.fail(f"the range has {count} items; at most {_MAX_RANGE_ITEMS} are allowed")
    return [first + step * index for index in range(count)]


def _array_get_item(c: Invocation) -> Any:
    items, index = c.array(0), c.integer(1)
    if not 0 <= index < len(items):
        raise c.fail(f"index {index} is out of bounds for an array of length {len(items)}")
    return items[index]


def _array_length(c: Invocation) -> int:
    return len(c.array(0))


def _array_unique(c: Invocation) -> list[Any]:
    seen: set[Any] = set()
    unique: list[Any] = []
    for item in c.array(0):
        key = json_key(item)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def _base64_encode(c: Invocation) -> str:
    return base64.b64encode(c.string(0, max_chars=_MAX_TEXT_CHARS).encode("utf-8")).decode("ascii")


_BASE64_TEXT = re.compile(r"[A-Za-z0-9+/]*(?:={0,2})")


def _base64_decode(c: Invocation) -> str:
    """Java's basic decoder: strict alphabet, no whitespace, the padding may be left out."""
    text = c.string(0, max_chars=_MAX_TEXT_CHARS)
    body = text.rstrip("=")
    padding = len(text) - len(body)
    valid = _BASE64_TEXT.fullmatch(text) is not None and len(body) % 4 != 1
    if valid and padding:
        valid = (len(body) + padding) % 4 == 0
    if not valid:
        raise c.fail("the string is not valid Base64")
    try:
        data = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except binascii.Error:
        raise c.fail("the string is not valid Base64") from None
    # Java's new String(bytes, UTF_8) replaces malformed sequences with U+FFFD.
    return data.decode("utf-8", errors="replace")


def _hash(c: Invocation) -> str:
    data = c.string(0, max_chars=_MAX_TEXT_CHARS)
    algorithm = c.values[1]
    if not isinstance(algorithm, str) or algorithm not in _HASH_ALGORITHMS:
        names = ", ".join(_HASH_ALGORITHMS)
        raise c.fail(f"the algorithm must be one of {names}, got {describe(algorithm)}")
    return str(_HASH_ALGORITHMS[algorithm](data.encode("utf-8")).hexdigest())


def _json_merge(c: Invocation) -> dict[str, Any]:
    first, second, deep = c.obj(0), c.obj(1), c.values[2]
    if not isinstance(deep, bool):
        raise c.fail(f"argument 3 must be a boolean, got {describe(deep)}")
    if deep:
        raise c.fail("deep merging is not supported; the third argument must be false")
    return {**first, **second}


def _math_random(c: Invocation) -> int:
    """A random integer in [start, end): start inclusive, end exclusive (AWS guide).

    Without a seed the number comes from the orchestrator's replay-safe random source,
    never from the machine; with one it is :class:`JavaRandom`'s, the same on every run.
    """
    start, end = c.rounded(0), c.rounded(1)
    if end <= start:
        raise c.fail(f"the end ({end}) must be greater than the start ({start})")
    if len(c.values) == 3:
        if end - start > _INT32_MAX:
            raise c.fail(f"the range from {start} to {end} is wider than {_INT32_MAX}")
        return start + JavaRandom(c.rounded(2)).next_int(end - start)
    fraction = c.random_source.random()
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"random_source.random() returned {fraction!r}, outside [0, 1)")
    return min(start + math.floor(fraction * (end - start)), end - 1)


def _math_add(c: Invocation) -> int:
    """Each argument is rounded half up (Java ``Math.round``) before adding.

    Pinned by the corpus: 1.49 + 1.5 = 3, -2.5 + 0 = -2, -0.5 + 0.5 = 1.
    """
    total = 0
    for index in range(2):
        value = c.rounded(index)
        if not _INT32_MIN <= value <= _INT32_MAX:
            raise c.fail(
                f"argument {index + 1} ({value}) is outside the range {_INT32_MIN} to {_INT32_MAX}"
            )
        total += value
    return total


def _string_split(c: Invocation) -> list[str]:
    """Java ``StringTokenizer``: every character of the delimiter splits; no empty tokens.

    Pinned by the corpus: ``", , ,"`` on ``","`` gives ``[" ", " "]``, and
    ``"This.is+a,test=string"`` on ``".+,="`` gives five words.
    """
    text, delimiters = c.string(0), set(c.string(1))
    tokens: list[str] = []
    current: list[str] = []
    for char in text:
        if char in delimiters:
            if current:
                tokens.append("".join(current))
                current.clear()
        else:
            current.append(char)
    if current:
        tokens.append("".join(current))
    return tokens


def _uuid(c: Invocation) -> str:
    value = c.random_source.uuid()
    if not isinstance(value, str):
        raise TypeError(f"random_source.uuid() returned {type(value).__name__}, not str")
    return value


FUNCTIONS: Mapping[str, Callable[[Invocation], Any]] = {
    "States.Format": _format,
    "States.StringToJson": _string_to_json,
    "States.JsonToString": _json_to_string,
    "States.Array": _array,
    "States.ArrayPartition": _array_partition,
    "States.ArrayContains": _array_contains,
    "States.ArrayRange": _array_range,
    "States.ArrayGetItem": _array_get_item,
    "States.ArrayLength": _array_length,
    "States.ArrayUnique": _array_unique,
    "States.Base64Encode": _base64_encode,
    "States.Base64Decode": _base64_decode,
    "States.Hash": _hash,
    "States.JsonMerge": _json_merge,
    "States.MathRandom": _math_random,
    "States.MathAdd": _math_add,
    "States.StringSplit": _string_split,
    "States.UUID": _uuid,
}


# --------------------------------------------------------------------------- helpers


def java_round(value: int | float) -> int:
    """Java ``Math.round``: the nearest integer, halves toward positive infinity."""
    if isinstance(value, int):
        return value
    if not math.isfinite(value):
        raise ValueError(f"cannot round {value}")
    floor = math.floor(value)
    # value - floor is exact for doubles, so this avoids floor(value + 0.5)'s
    # double-rounding error (0.49999999999999994 must round to 0).
    return floor + 1 if value - floor >= 0.5 else floor


def json_key(value: Any) -> Any:
    """A hashable key with JSON (Jackson ``JsonNode``) equality.

    Unlike Python's ``==``: ``true`` is not ``1``, ``1`` is not ``1.0``, and object key
    order does not matter.
    """
    if value is None or isinstance(value, str):
        return (type(value).__name__, value)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("float", value)
    if isinstance(value, Mapping):
        return ("object", frozenset((str(key), json_key(item)) for key, item in value.items()))
    if isinstance(value, Sequence):
        return ("array", tuple(json_key(item) for item in value))
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def describe(value: Any) -> str:
    """A value for an error message: its JSON type and (shortened) JSON text."""
    if value is None:
        return "null"
    try:
        shown = json_text(value)
    except TypeError:
        return type(value).__name__
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return f"{json_type(value)} {shown}"


class JavaRandom:
    """``java.util.Random``: the 48-bit linear congruential generator, bit for bit.

    ``JavaRandom(seed).next_int(bound)`` equals Java's ``new Random(seed).nextInt(bound)``
    (checked against the JDK). A seeded ``States.MathRandom(start, end, seed)`` returns
    ``start + new Random(seed).nextInt(end - start)``. AWS documents only that the same
    seed gives the same number; that it uses ``java.util.Random`` in this way is our
    assumption (AWS records of seeded results are redacted in the corpus).
    """

    _MULTIPLIER = 0x5DEECE66D
    _ADDEND = 0xB
    _MASK = (1 << 48) - 1

    def __init__(self, seed: int) -> None:
        self._seed = (seed ^ self._MULTIPLIER) & self._MASK

    def _next(self, bits: int) -> int:
        self._seed = (self._seed * self._MULTIPLIER + self._ADDEND) & self._MASK
        result = self._seed >> (48 - bits)
        # Java returns a signed 32-bit int.
        return result - (1 << 32) if result >= 1 << 31 else result

    def next_int(self, bound: int | None = None) -> int:
        """``nextInt()`` without a bound, ``nextInt(bound)`` with one."""
        if bound is None:
            return self._next(32)
        if bound <= 0 or bound > _INT32_MAX:
            raise ValueError(f"bound must be in 1..{_INT32_MAX}, got {bound}")
        r = self._next(31)
        m = bound - 1
        if bound & m == 0:  # a power of two
            return (bound * r) >> 31
        u = r
        r = u % bound
        while u - r + m > _INT32_MAX:  # Java's int overflow test: reject the biased tail
            u = self._next(31)
            r = u % bound
        return r
