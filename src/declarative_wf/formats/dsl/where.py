"""Where a step is: shared by the compiler and the step compilers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Where:
    """The list of steps a step is in: the key of its IR block (the pointer of the list that
    made the block), the node that ends that block (None: leave the block), and the names
    expressions may use there besides the file's variables (``item``, ``compensating``...)."""

    block: str
    end: str | None
    extra: frozenset[str] = frozenset()
