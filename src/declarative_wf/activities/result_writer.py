"""The built-in ``dwf.write_results`` activity: a Map's ``ResultWriter``.

After the items of a Map with a ``ResultWriter`` ran, the interpreter calls this activity
with the writer's fields resolved against the state's input (ASL's shape) and every item's
outcome::

    {"Resource": "arn:aws:states:::s3:putObject",
     "Parameters": {"Bucket": "b", "Prefix": "runs"} | {"Path": "runs"},
     "WriterConfig": {"OutputType": "JSON" | "JSONL", "Transformation": "NONE" | "COMPACT" | "FLATTEN"},
     "Outcomes": [{"ok": true, "value": …} | {"ok": false, "error": {"type", "message"}}],
     "Items": [the items' inputs], "Run": "<map run id>", "Workflow": "<name>"}

It writes, below ``$DWF_ITEM_ROOT/<Bucket>/<Prefix>/<run>/`` (or ``$DWF_ITEM_ROOT/<Path>/<run>/``),
``SUCCEEDED_0.json`` and ``FAILED_0.json`` (``.jsonl`` with ``OutputType: JSONL``; a file only
when it has entries) and ``manifest.json``, and returns what AWS returns as the Map's result:
``{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}`` (``Key``: the manifest).

Entries, by ``Transformation``: ``NONE`` (the default) ``{"Index", "Input", "Output", "Status":
"SUCCEEDED"}`` / ``{"Index", "Input", "Error", "Cause", "Status": "FAILED"}`` with ``Input`` and
``Output`` as JSON text (a subset of AWS's child-execution records); ``COMPACT`` the outputs
themselves; ``FLATTEN`` the outputs, an output that is an array contributing its elements.
The files of one run are rewritten whole, so a retried activity leaves the same files.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .item_reader import ROOT_ENV

OUTPUT_TYPES = ("JSON", "JSONL")
TRANSFORMATIONS = ("NONE", "COMPACT", "FLATTEN")


class ResultWriterFailed(Exception):
    """The results could not be written (ASL: ``States.ResultWriterFailed``)."""


def write_results(request: Any) -> dict[str, Any]:
    if not isinstance(request, dict):
        raise ResultWriterFailed("the ResultWriter must be an object")
    resource = request.get("Resource")
    if resource is not None and not (isinstance(resource, str) and resource.endswith(":s3:putObject")):
        raise ResultWriterFailed(f"ResultWriter Resource {resource!r} is not supported: use arn:aws:states:::s3:putObject")
    parameters = request.get("Parameters") or {}
    config = request.get("WriterConfig") or {}
    if not isinstance(parameters, dict) or not isinstance(config, dict):
        raise ResultWriterFailed("ResultWriter Parameters and WriterConfig must be objects")
    output_type = config.get("OutputType", "JSON")
    transformation = config.get("Transformation", "NONE")
    if output_type not in OUTPUT_TYPES:
        raise ResultWriterFailed(f"WriterConfig.OutputType {output_type!r} is not supported: use JSON or JSONL")
    if transformation not in TRANSFORMATIONS:
        raise ResultWriterFailed(f"WriterConfig.Transformation {transformation!r} is not supported: use NONE, COMPACT or FLATTEN")
    run = str(request.get("Run") or "run")
    bucket, key_prefix, directory = _destination(parameters, run)
    outcomes = request.get("Outcomes") or []
    items = request.get("Items") or []
    succeeded, failed = _entries(outcomes, items, transformation)
    suffix = ".jsonl" if output_type == "JSONL" else ".json"
    files: dict[str, list[dict[str, Any]]] = {"SUCCEEDED": [], "FAILED": [], "PENDING": []}
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for status, entries in (("SUCCEEDED", succeeded), ("FAILED", failed)):
            if not entries:
                continue
            name = f"{status}_0{suffix}"
            text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries) if output_type == "JSONL" else json.dumps(entries, ensure_ascii=False)
            _write(directory / name, text)
            files[status].append({"Key": f"{key_prefix}{name}", "Size": len(text.encode())})
        arn = f"arn:aws:states:local:000000000000:mapRun:{request.get('Workflow') or 'state-machine'}/{run}:{run}"
        manifest = {"DestinationBucket": bucket, "MapRunArn": arn, "ResultFiles": files}
        _write(directory / "manifest.json", json.dumps(manifest, ensure_ascii=False))
    except OSError as error:
        raise ResultWriterFailed(f"cannot write the results to {directory}: {error.strerror or error}") from None
    return {"MapRunArn": arn, "ResultWriterDetails": {"Bucket": bucket, "Key": f"{key_prefix}manifest.json"}}


def _destination(parameters: dict[str, Any], run: str) -> tuple[str, str, Path]:
    """``(bucket, key prefix of the run's files, local directory)``."""
    root_text = os.environ.get(ROOT_ENV)
    if not root_text:
        raise ResultWriterFailed(f"results are written below the directory ${ROOT_ENV} names, and it is not set")
    root = Path(root_text).resolve()
    if "Bucket" in parameters:
        bucket, prefix = parameters.get("Bucket"), parameters.get("Prefix", "")
        if not isinstance(bucket, str) or not bucket or not isinstance(prefix, str):
            raise ResultWriterFailed("ResultWriter Parameters need a Bucket (and optionally a Prefix), as strings")
        relative = "/".join(part for part in (bucket, prefix.strip("/"), run) if part)
        key_prefix = "/".join(part for part in (prefix.strip("/"), run) if part) + "/"
    elif isinstance(parameters.get("Path"), str) and parameters["Path"]:
        bucket = ""
        relative = f"{parameters['Path'].strip('/')}/{run}"
        key_prefix = relative + "/"
    else:
        raise ResultWriterFailed("ResultWriter Parameters need Bucket (and Prefix) or Path (see docs/asl.md)")
    directory = (root / relative).resolve()
    if root not in directory.parents:
        raise ResultWriterFailed(f"cannot write to {relative}: it is outside ${ROOT_ENV} ({root})")
    return bucket, key_prefix, directory


def _entries(outcomes: list[Any], items: list[Any], transformation: str) -> tuple[list[Any], list[Any]]:
    succeeded: list[Any] = []
    failed: list[Any] = []
    for index, outcome in enumerate(outcomes):
        outcome = outcome if isinstance(outcome, dict) else {}
        item = items[index] if index < len(items) else None
        if outcome.get("ok"):
            value = outcome.get("value")
            if transformation == "COMPACT":
                succeeded.append(value)
            elif transformation == "FLATTEN":
                succeeded.extend(value if isinstance(value, list) else [value])
            else:
                succeeded.append({"Index": index, "Input": _text(item), "Output": _text(value), "Status": "SUCCEEDED"})
        else:
            found = outcome.get("error")
            error: dict[str, Any] = found if isinstance(found, dict) else {}
            entry = {"Error": error.get("type") or "", "Cause": error.get("message") or ""}
            if transformation == "NONE":
                entry = {"Index": index, "Input": _text(item), **entry, "Status": "FAILED"}
            failed.append(entry)
    return succeeded, failed


def _text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _write(path: Path, text: str) -> None:
    # Write then rename: a crash never leaves half a file where a reader expects a whole one.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temporary, path)
