"""A Map's ``ItemReader`` and ``ResultWriter``: what the compiler turns them into, and what
validation checks.

The items are read by the built-in activity ``dwf.read_items``
(:mod:`declarative_wf.activities.item_reader`), the results written by ``dwf.write_results``
(:mod:`declarative_wf.activities.result_writer`); the Map's ``reader`` / ``writer``
expressions build their arguments, ASL's own objects with every path and ``{% %}`` resolved
against the state's input: ``{"Resource", "Parameters", "ReaderConfig" | "WriterConfig"}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from declarative_wf.ir import Expr

__all__ = [
    "GET_OBJECT", "PUT_OBJECT", "SUPPORTED_INPUT_TYPES", "reader_expr", "reader_problems", "reader_template", "writer_expr",
    "writer_problems",
]  # fmt: skip

GET_OBJECT = "arn:aws:states:::s3:getObject"
PUT_OBJECT = "arn:aws:states:::s3:putObject"
SUPPORTED_INPUT_TYPES = ("JSON", "JSONL", "CSV")


def reader_template(reader: Mapping[str, Any], jsonata: bool) -> dict[str, Any]:
    """The activity's argument as a payload template: ``MaxItemsPath`` becomes ``MaxItems.$``
    (a reference the JSONPath payload resolves); JSONata's ``Arguments`` is ``Parameters``."""
    parameters = reader.get("Arguments" if jsonata else "Parameters", reader.get("Parameters"))
    config = dict(reader.get("ReaderConfig") or {}) if isinstance(reader.get("ReaderConfig"), dict) else {}
    if "MaxItemsPath" in config and not jsonata:
        config["MaxItems.$"] = config.pop("MaxItemsPath")
    template: dict[str, Any] = {"Resource": reader.get("Resource")}
    if parameters is not None:
        template["Parameters"] = parameters
    if config:
        template["ReaderConfig"] = config
    return template


def reader_expr(reader: Mapping[str, Any], jsonata: bool, payload: Callable[..., Expr], template_fn: Callable[..., Expr]) -> Expr:
    """The Map node's ``reader``: a JSONPath payload (``key.$``) or a JSONata template."""
    template = reader_template(reader, jsonata)
    if jsonata:
        return template_fn(template, "ItemReader")
    return payload(template, "ItemReader")


def writer_expr(writer: Mapping[str, Any], jsonata: bool, payload: Callable[..., Expr], template_fn: Callable[..., Expr]) -> Expr:
    """The Map node's ``writer``: ``{"Resource", "Parameters", "WriterConfig"}`` resolved
    against the state's input (the interpreter adds every item's outcome)."""
    parameters = writer.get("Arguments" if jsonata else "Parameters", writer.get("Parameters"))
    template: dict[str, Any] = {"Resource": writer.get("Resource")}
    if parameters is not None:
        template["Parameters"] = parameters
    if isinstance(writer.get("WriterConfig"), dict):
        template["WriterConfig"] = writer["WriterConfig"]
    return template_fn(template, "ResultWriter") if jsonata else payload(template, "ResultWriter")


def writer_problems(writer: Any) -> list[tuple[str, str, str, bool]]:
    """Like :func:`reader_problems`, for a ``ResultWriter``."""
    if not isinstance(writer, Mapping):
        return []
    found: list[tuple[str, str, str, bool]] = []
    resource = writer.get("Resource")
    if isinstance(resource, str) and not resource.endswith(":s3:putObject"):
        found.append(("warning", "ASL-W001", f"ResultWriter Resource {resource!r} is not supported: only {PUT_OBJECT} is written", False))
    config = writer.get("WriterConfig")
    if isinstance(config, Mapping):
        output_type, transformation = config.get("OutputType"), config.get("Transformation")
        if output_type is not None and output_type not in ("JSON", "JSONL"):
            found.append(("error", "ASL-E046", f"WriterConfig OutputType must be JSON or JSONL, not {output_type!r}", True))
        if transformation is not None and transformation not in ("NONE", "COMPACT", "FLATTEN"):
            found.append(("error", "ASL-E046", f"WriterConfig Transformation must be NONE, COMPACT or FLATTEN, not {transformation!r}", True))
    return found


def reader_problems(reader: Any) -> list[tuple[str, str, str, bool]]:
    """``(severity, code, message, relative pointer)`` for what the schema cannot say. What AWS
    accepts but this runtime cannot read is a warning: the definition is valid, the Map fails
    with States.ItemReaderFailed when it runs."""
    if not isinstance(reader, Mapping):
        return []
    found: list[tuple[str, str, str, bool]] = []
    resource = reader.get("Resource")
    if isinstance(resource, str) and not resource.endswith(":s3:getObject"):
        found.append((
            "warning", "ASL-W001",
            f"ItemReader Resource {resource!r} is not supported: only {GET_OBJECT} (a JSON, JSONL or CSV file) is read",
            False,
        ))  # fmt: skip
    config = reader.get("ReaderConfig")
    if isinstance(config, Mapping):
        input_type = config.get("InputType")
        if isinstance(input_type, str) and input_type not in SUPPORTED_INPUT_TYPES:
            found.append(("warning", "ASL-W001", f"ReaderConfig InputType {input_type} is not supported: use JSON, JSONL or CSV", False))
        if config.get("CSVHeaderLocation") == "GIVEN" and not config.get("CSVHeaders"):
            found.append(("error", "ASL-E046", "CSVHeaderLocation GIVEN needs CSVHeaders: the list of column names", True))
    return found
