"""The built-in ``dwf.read_items`` activity: the items of a Map ``ItemReader``.

The orchestrator never does I/O, so a Map with an ``ItemReader`` first calls this activity
with the reader's fields, resolved against the state's input (ASL's own shape)::

    {"Resource": "arn:aws:states:::s3:getObject",
     "Parameters": {"Bucket": "b", "Key": "k"} | {"Url": "https://…"} | {"Path": "rel/file.csv"},
     "ReaderConfig": {"InputType": "JSON" | "JSONL" | "CSV", "MaxItems": 100,
                      "CSVHeaderLocation": "FIRST_ROW" | "GIVEN", "CSVHeaders": [...],
                      "CSVDelimiter": "COMMA" | "PIPE" | "SEMICOLON" | "SPACE" | "TAB"}}

and iterates over the list it returns. Where the data comes from:

* ``Url``: an ``http://`` or ``https://`` URL, fetched with a GET (``DWF_HTTP_ROUTES`` applies,
  as for the ``http`` activity);
* ``Bucket`` + ``Key`` (S3): the file ``$DWF_ITEM_ROOT/<Bucket>/<Key>``;
* ``Path``: the file ``$DWF_ITEM_ROOT/<Path>``.

Local files are read only below the directory ``DWF_ITEM_ROOT`` names (a definition submitted
to a server must not read the server's files), and never outside it (``..`` is refused).

Failures raise :class:`ItemReaderFailed` (ASL: ``States.ItemReaderFailed``) with a message that
names the source and the problem.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import httpx

ROOT_ENV = "DWF_ITEM_ROOT"
#: The largest source read (bytes): the items end up in the instance's history.
MAX_BYTES = 64 * 1024 * 1024
DELIMITERS = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ", "TAB": "\t"}
INPUT_TYPES = ("JSON", "JSONL", "CSV")


class ItemReaderFailed(Exception):
    """The items could not be read (named as ASL names it, without the ``States.`` prefix)."""


async def read_items(request: Any) -> list[Any]:
    if not isinstance(request, dict):
        raise ItemReaderFailed(f"the ItemReader must be an object, got {json.dumps(request)}")
    parameters = request.get("Parameters") or {}
    config = request.get("ReaderConfig") or {}
    if not isinstance(parameters, dict) or not isinstance(config, dict):
        raise ItemReaderFailed("ItemReader Parameters and ReaderConfig must be objects")
    resource = request.get("Resource")
    if resource is not None and not (isinstance(resource, str) and resource.endswith(":s3:getObject")):
        raise ItemReaderFailed(
            f"ItemReader Resource {resource!r} is not supported: use arn:aws:states:::s3:getObject (see docs/asl.md)"
        )
    input_type = config.get("InputType", "JSON")
    if input_type not in INPUT_TYPES:
        raise ItemReaderFailed(f"ReaderConfig.InputType {input_type!r} is not supported: use one of {', '.join(INPUT_TYPES)}")
    max_items = _max_items(config.get("MaxItems"))
    where, data = await _fetch(parameters)
    text = _decode(data, where)
    if input_type == "JSON":
        items = _json(text, where)
    elif input_type == "JSONL":
        items = _jsonl(text, where, max_items)
    else:
        items = _csv(text, where, config, max_items)
    return items if max_items is None else items[:max_items]


def _max_items(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ItemReaderFailed(f"ReaderConfig.MaxItems must be a non-negative integer, got {json.dumps(value)}")
    return value or None  # 0: no limit, as on AWS


async def _fetch(parameters: dict[str, Any]) -> tuple[str, bytes]:
    url = parameters.get("Url")
    if url is not None:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ItemReaderFailed(f"ItemReader Url must be an http:// or https:// URL, got {json.dumps(url)}")
        from .http import raw_request

        try:
            response = await raw_request("GET", url, follow_redirects=True, timeout=60.0)
        except httpx.HTTPError as error:
            raise ItemReaderFailed(f"cannot read {url}: {type(error).__name__}: {error}") from None
        if response.status_code >= 400:
            raise ItemReaderFailed(f"cannot read {url}: the server answered {response.status_code}")
        if len(response.content) > MAX_BYTES:
            raise ItemReaderFailed(f"{url} is larger than {MAX_BYTES} bytes")
        return url, response.content
    if "Bucket" in parameters or "Key" in parameters:
        bucket, key = parameters.get("Bucket"), parameters.get("Key")
        if not isinstance(bucket, str) or not bucket or not isinstance(key, str) or not key:
            raise ItemReaderFailed("ItemReader Parameters need a Bucket and a Key (strings)")
        return _file(f"{bucket}/{key}", f"s3://{bucket}/{key}")
    path = parameters.get("Path")
    if isinstance(path, str) and path:
        return _file(path, path)
    raise ItemReaderFailed("ItemReader Parameters need Bucket and Key, Url, or Path (see docs/asl.md)")


def _file(relative: str, shown: str) -> tuple[str, bytes]:
    root_text = os.environ.get(ROOT_ENV)
    if not root_text:
        raise ItemReaderFailed(
            f"cannot read {shown}: local files are read below the directory ${ROOT_ENV} names, and it is not set "
            f"(e.g. {ROOT_ENV}=/data: Bucket 'b' and Key 'k' read /data/b/k)"
        )
    root = Path(root_text).resolve()
    target = (root / relative.lstrip("/")).resolve()
    if root != target and root not in target.parents:
        raise ItemReaderFailed(f"cannot read {shown}: it is outside ${ROOT_ENV} ({root})")
    try:
        if target.stat().st_size > MAX_BYTES:
            raise ItemReaderFailed(f"{shown} is larger than {MAX_BYTES} bytes")
        return shown, target.read_bytes()
    except FileNotFoundError:
        raise ItemReaderFailed(f"cannot read {shown}: no file {target}") from None
    except OSError as error:
        raise ItemReaderFailed(f"cannot read {shown}: {error.strerror or error}") from None


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ItemReaderFailed(f"{where} is not UTF-8 text: {error}") from None


def _json(text: str, where: str) -> list[Any]:
    try:
        value = json.loads(text)
    except ValueError as error:
        raise ItemReaderFailed(f"{where} is not JSON: {error}") from None
    if not isinstance(value, list):
        raise ItemReaderFailed(f"{where} must hold a JSON array (InputType JSON), got a JSON {type(value).__name__}")
    return value


def _jsonl(text: str, where: str, max_items: int | None) -> list[Any]:
    items: list[Any] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except ValueError as error:
            raise ItemReaderFailed(f"{where} line {number} is not JSON (InputType JSONL): {error}") from None
        if max_items is not None and len(items) >= max_items:
            break
    return items


def _csv(text: str, where: str, config: dict[str, Any], max_items: int | None) -> list[dict[str, str]]:
    delimiter_name = config.get("CSVDelimiter", "COMMA")
    delimiter = DELIMITERS.get(delimiter_name) if isinstance(delimiter_name, str) else None
    if delimiter is None:
        raise ItemReaderFailed(f"ReaderConfig.CSVDelimiter {delimiter_name!r} is not supported: use one of {', '.join(DELIMITERS)}")
    location = config.get("CSVHeaderLocation", "FIRST_ROW")
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        if location == "FIRST_ROW":
            headers = next(rows, None)
            if headers is None:
                return []
        elif location == "GIVEN":
            headers = config.get("CSVHeaders")
            if not isinstance(headers, list) or not headers or not all(isinstance(h, str) for h in headers):
                raise ItemReaderFailed("CSVHeaderLocation GIVEN needs CSVHeaders: a list of column names")
        else:
            raise ItemReaderFailed(f"ReaderConfig.CSVHeaderLocation {location!r} is not supported: use FIRST_ROW or GIVEN")
        items: list[dict[str, str]] = []
        for row in rows:
            if not row:
                continue
            if len(row) > len(headers):
                raise ItemReaderFailed(
                    f"{where} line {rows.line_num} has {len(row)} fields but there are {len(headers)} headers"
                )
            # A short row leaves the missing columns empty, as AWS does.
            items.append({name: (row[i] if i < len(row) else "") for i, name in enumerate(headers)})
            if max_items is not None and len(items) >= max_items:
                break
        return items
    except csv.Error as error:
        raise ItemReaderFailed(f"{where} is not valid CSV (line {rows.line_num}): {error}") from None
