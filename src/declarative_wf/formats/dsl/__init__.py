"""The declarative_wf YAML DSL: ``dwf: 1`` documents compiled into the IR.

Reference: docs/dsl.md. Phases: :mod:`.schema` (shape, against schemas/dsl.schema.json),
:mod:`.compile` (document, blocks, jumps, child workflows, whole-graph checks), :mod:`.steps`
and :mod:`.options` (one compiler per step kind, shared step options), :mod:`.expressions`
and :mod:`.durations` (values); all report through :mod:`.report`. Codes: :mod:`.codes`.
"""

from .codes import DSL_CODES
from .compile import compile_document
from .durations import DurationError, parse_duration, parse_timestamp
from .schema import KINDS, load_schema

__all__ = ["DSL_CODES", "KINDS", "DurationError", "compile_document", "load_schema", "parse_duration", "parse_timestamp"]
