"""JSON Pointers (RFC 6901): build, escape and parse the addresses every diagnostic carries.

Part of :mod:`declarative_wf.loading`, which re-exports these names; import them from there.
"""

from __future__ import annotations

import re

__all__ = ["escape_pointer_token", "json_pointer", "parse_pointer", "pointer_join"]


def escape_pointer_token(token: str | int) -> str:
    """One reference token per RFC 6901: ``~`` → ``~0`` first, then ``/`` → ``~1``."""
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer_join(base: str, part: str | int) -> str:
    """``base`` plus one token: ``pointer_join("/states", "a/b")`` → ``"/states/a~1b"``."""
    return f"{base}/{escape_pointer_token(part)}"


def json_pointer(*parts: str | int) -> str:
    """A pointer from unescaped tokens: ``json_pointer("do", 0, "x")`` → ``"/do/0/x"``."""
    return "".join("/" + escape_pointer_token(p) for p in parts)


def parse_pointer(pointer: str) -> list[str]:
    """The unescaped tokens of a pointer (``""`` → ``[]``); ValueError if it is malformed."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"a JSON Pointer starts with '/': {pointer!r}")
    if re.search(r"~(?![01])", pointer):
        raise ValueError(f"'~' must be followed by 0 or 1 in a JSON Pointer: {pointer!r}")
    # RFC 6901 §4: ~1 before ~0, so that "~01" decodes to "~1", not to "/".
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]
