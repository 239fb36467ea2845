"""The JSON Schema a definition declares for its input (``Workflow.options["input_schema"]``;
the DSL's ``input.schema``), and what a value breaks of it.

Whoever starts an instance checks it (``dwf run``, the API); the interpreter checks it before
it starts an embedded child workflow. Validators are built once per schema: a replayed turn
checks the same input again and must stay cheap.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from declarative_wf.ir import Workflow


def input_problems(workflow: Workflow, value: Any) -> list[str]:
    """What is wrong with ``value`` as the input of ``workflow``; [] when it is fine or there
    is no schema. Each problem reads ``/pointer/in/the/input: message``, sorted by pointer."""
    schema = workflow.options.get("input_schema")
    if schema is None:
        return []
    validator = _validator(json.dumps(schema, sort_keys=True))
    errors = sorted(validator.iter_errors(value), key=lambda error: _pointer(error.absolute_path))
    return [f"{_pointer(error.absolute_path) or '/'}: {error.message}" for error in errors]


@lru_cache(maxsize=64)
def _validator(schema_text: str) -> Any:
    import jsonschema  # only definitions with a schema pay for the import

    schema = json.loads(schema_text)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema)


def _pointer(path: Any) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)
