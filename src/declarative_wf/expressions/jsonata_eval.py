"""JSONata as AWS Step Functions runs it, on ``jsonata-python`` (a pure-Python port of
jsonata-java).

What this adds to the library:

* **Step Functions' function set.** AWS documents JSONata 2.0.6 plus ``$partition``,
  ``$range``, ``$hash``, ``$random([seed])``, ``$uuid`` and ``$parse``, and without ``$eval``.
* **Determinism.** ``$now()``, ``$millis()``, ``$random()`` and ``$uuid()`` take their values
  from the orchestration (the workflow clock and the instance's entropy), never from the
  machine, so a replay computes the same values.
* **undefined vs null.** :func:`evaluate` returns :data:`UNDEFINED` for "no value", which ASL
  reports as an error, and ``None`` for JSON ``null``.
* **Plain JSON out.** Sequences become lists, integral numbers become ``int``.

Compiled expressions are cached by their text. The library keeps per-evaluation state on the
compiled object, so evaluations are serialised by a lock (orchestrator code is single-threaded
per worker anyway).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from jsonata import Jsonata
from jsonata.jexception import JException
from jsonata.parser import Parser
from jsonata.utils import Utils

from .asl_intrinsic_functions import JavaRandom

__all__ = ["JsonataError", "JsonataSyntaxError", "UNDEFINED", "compile_jsonata", "evaluate", "unsupported"]


class _Undefined:
    def __repr__(self) -> str:
        return "undefined"

    def __bool__(self) -> bool:
        return False


#: JSONata's "no value" (a path that selects nothing, an unbound variable).
UNDEFINED: Any = _Undefined()


class JsonataSyntaxError(ValueError):
    """The text is not a JSONata expression; ``position`` is a 0-based offset when known."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


class JsonataError(Exception):
    """Evaluation failed (a type error, a function's error, ...)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Unsupported:
    """The result of an expression that evaluated to a function (not a JSON value)."""


unsupported: Any = _Unsupported()

_LOCK = threading.RLock()


def _message(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text.strip()


@functools.lru_cache(maxsize=4096)
def compile_jsonata(text: str) -> Jsonata:
    """Parses once (cached); raises :class:`JsonataSyntaxError`."""
    with _LOCK:
        try:
            expression = Jsonata(text)
        except JException as error:
            raise JsonataSyntaxError(_message(error), getattr(error, "location", None)) from None
        except Exception as error:  # the port raises plain Python errors for some bad input
            raise JsonataSyntaxError(_message(error)) from None
        if expression.errors:
            raise JsonataSyntaxError(_message(expression.errors[0]))
        expression.set_output_convert_nulls(False)
        return expression


# -- values in and out ------------------------------------------------------------------------


def to_jsonata(value: Any) -> Any:
    """A JSON value as a binding: ``null`` must be JSONata's null, not undefined."""
    return Utils.NULL_VALUE if value is None else value


def from_jsonata(value: Any) -> Any:
    """A JSONata result as plain JSON (``UNDEFINED`` for no value, ``unsupported`` for a
    function)."""
    if value is None:
        return UNDEFINED
    return _plain(value)


def _plain(value: Any) -> Any:
    if value is Utils.NULL_VALUE or value is None:
        return None
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
            return int(value)
        return value
    # Inside a structure, None is a JSON null that came from the input (the library already
    # leaves undefined values out of the objects and arrays it builds).
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, (Jsonata.JFunctionCallable, Parser.Symbol)) or callable(value):
        return unsupported
    return value


def _args(values: tuple[Any, ...]) -> list[Any]:
    return [UNDEFINED if value is None else _plain(value) for value in values]


# -- Step Functions' functions ----------------------------------------------------------------


class _FunctionFailure(Exception):
    pass


def _fail(name: str, detail: str) -> _FunctionFailure:
    return _FunctionFailure(f"${name}: {detail}")


def _number(name: str, value: Any, what: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(name, f"{what} must be a number")
    return value


def _partition(*values: Any) -> Any:
    args = _args(values)
    if len(args) != 2:
        raise _fail("partition", "takes an array and a chunk size")
    items, size = args
    if not isinstance(items, list):
        items = [] if items is UNDEFINED else [items]
    size = _number("partition", size, "the chunk size")
    if size <= 0 or not float(size).is_integer():
        raise _fail("partition", "the chunk size must be a positive integer")
    size = int(size)
    return [items[start : start + size] for start in range(0, len(items), size)]


def _range(*values: Any) -> Any:
    args = _args(values)
    if len(args) != 3:
        raise _fail("range", "takes a start, an end and a step")
    start, end, step = (_number("range", value, "every argument") for value in args)
    if step == 0:
        raise _fail("range", "the step must not be 0")
    # AWS's $range returns a JSONata sequence: a one-number range is that number.
    out: list[Any] = Utils.create_sequence()
    current = start
    while (step > 0 and current <= end) or (step < 0 and current >= end):
        out.append(current)
        if len(out) > 1000:
            raise _fail("range", "the result would have more than 1000 elements")
        current += step
    return out


_HASHES: dict[str, Callable[[bytes], Any]] = {
    "MD5": hashlib.md5,
    "SHA-1": hashlib.sha1,
    "SHA-256": hashlib.sha256,
    "SHA-384": hashlib.sha384,
    "SHA-512": hashlib.sha512,
}


def _hash(*values: Any) -> Any:
    args = _args(values)
    if len(args) not in (1, 2):
        raise _fail("hash", "takes a string and an algorithm")
    data = args[0]
    algorithm = args[1] if len(args) == 2 else "SHA-256"
    if not isinstance(data, str):
        raise _fail("hash", "the data must be a string")
    if algorithm not in _HASHES:
        raise _fail("hash", f"the algorithm must be one of {', '.join(_HASHES)}")
    return _HASHES[algorithm](data.encode("utf-8")).hexdigest()


def _parse(*values: Any) -> Any:
    args = _args(values)
    if len(args) != 1 or not isinstance(args[0], str):
        raise _fail("parse", "takes one string of JSON")
    try:
        parsed = json.loads(args[0])
    except ValueError as error:
        raise _fail("parse", f"not JSON: {error}") from None
    return to_jsonata(parsed)


class _Session:
    """What the deterministic functions of one evaluation read."""

    def __init__(self, random: Any, now: Callable[[], datetime] | None) -> None:
        self.random = random
        self.now = now

    def moment(self) -> datetime:
        moment = self.now() if self.now is not None else None
        if moment is None:
            raise _FunctionFailure("$now: no workflow clock is available here")
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)

    def draw(self) -> float:
        if self.random is None:
            raise _FunctionFailure("$random: no orchestration entropy is available here")
        return float(self.random.random())

    def bindings(self) -> dict[str, Any]:
        def now(*values: Any) -> Any:
            args = _args(values)
            moment = self.moment()
            millis = int(moment.timestamp() * 1000)
            if args and isinstance(args[0], str):
                from jsonata.functions import Functions

                timezone_arg = args[1] if len(args) > 1 and isinstance(args[1], str) else None
                return Functions.datetime_from_millis(millis, args[0], timezone_arg)
            return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"

        def millis(*values: Any) -> Any:
            return int(self.moment().timestamp() * 1000)

        def random(*values: Any) -> Any:
            args = _args(values)
            if args and args[0] is not UNDEFINED:
                seed = _number("random", args[0], "the seed")
                return _seeded(int(seed))
            return self.draw()

        def uuid(*values: Any) -> Any:
            if self.random is None:
                raise _FunctionFailure("$uuid: no orchestration entropy is available here")
            return self.random.uuid()

        def no_eval(*values: Any) -> Any:
            raise _FunctionFailure("$eval is not available in Step Functions JSONata")

        lambdas = {
            "now": now, "millis": millis, "random": random, "uuid": uuid, "eval": no_eval,
            "partition": _partition, "range": _range, "hash": _hash, "parse": _parse,
        }  # fmt: skip
        return {name: Jsonata.JLambda(function) for name, function in lambdas.items()}


def _seeded(seed: int) -> float:
    # java.util.Random.nextDouble(): 53 random bits.
    generator = JavaRandom(seed)
    high = generator._next(26)  # noqa: SLF001 - the same algorithm, two draws
    low = generator._next(27)  # noqa: SLF001
    return ((high << 27) + low) * (1.0 / (1 << 53))


def evaluate(
    text: str,
    variables: Mapping[str, Any],
    *,
    random: Any = None,
    now: Callable[[], datetime] | None = None,
) -> Any:
    """The value of ``text`` with ``variables`` bound (``{"states": ..., "x": ...}``); the
    input document (``$``) is undefined, as in Step Functions. Returns plain JSON,
    :data:`UNDEFINED` or :data:`unsupported`; raises :class:`JsonataSyntaxError` or
    :class:`JsonataError`."""
    expression = compile_jsonata(text)
    bindings = {name: to_jsonata(value) for name, value in variables.items()}
    bindings.update(_Session(random, now).bindings())
    with _LOCK:
        try:
            result = expression.evaluate(None, bindings)
        except _FunctionFailure as error:
            raise JsonataError(str(error)) from None
        except JException as error:
            raise JsonataError(_message(error)) from None
        except RecursionError:
            raise JsonataError("the expression recursed too deeply") from None
        except Exception as error:  # the port raises plain Python errors (TypeError...) too
            raise JsonataError(_message(error)) from None
        try:
            return from_jsonata(result)
        except RecursionError:
            raise JsonataError("the result is nested too deeply") from None
