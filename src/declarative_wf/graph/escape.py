"""The character escaping both writers share: what differs between DOT and Mermaid is only
how a line break is written and which characters the language would interpret."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

__all__ = ["escape_label"]


def escape_label(text: str, line_break: str, specials: Mapping[str, str]) -> str:
    """``text`` for a writer's quoted label: every line break (CR LF, CR, LF, U+2028/9
    too) becomes ``line_break``, each character of ``specials`` its replacement, a tab a space,
    and other control characters U+FFFD, which a renderer never interprets."""
    out: list[str] = []
    for ch in text.replace("\r\n", "\n").replace("\r", "\n"):
        if ch in "\n\u2028\u2029":
            out.append(line_break)
        elif ch in specials:
            out.append(specials[ch])
        elif ch == "\t":
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cs"):
            out.append("\ufffd")  # never pass control characters on to a renderer
        else:
            out.append(ch)
    return "".join(out)
