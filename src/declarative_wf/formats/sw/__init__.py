"""Serverless Workflow 1.x (DSL ``1.0.x``): compile documents into the IR.

:func:`compile_document` validates a loaded document and compiles it (``compile.py`` walks the
task lists, ``tasks.py`` holds the built-in task compilers, ``extensions.py`` the registry other
modules add task kinds to). ``runtime.py`` is the interpreter profile of format ``"sw1"``
(``$context``, ``$task``, ``$workflow``..., Problem Details errors, lifecycle observers).
See docs/serverless-workflow.md.
"""

from __future__ import annotations

from .compile import COMPILE_CODES, compile_document, task_kind

__all__ = ["COMPILE_CODES", "compile_document", "task_kind"]
