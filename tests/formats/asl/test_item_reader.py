"""Map ``ItemReader``: the built-in ``dwf.read_items`` activity on its own (JSON, JSONL, CSV,
files below $DWF_ITEM_ROOT, URLs, every refusal), and Maps reading their items on the real
embedded engine — from a file, from a local HTTP server, and 10,000 items that run in chunk
children which still report the parent's ``$$.Execution``."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from declarative_wf.activities import Registry
from declarative_wf.activities.item_reader import ItemReaderFailed, read_items
from declarative_wf.client import WorkflowClient
from declarative_wf.formats.asl.runtime import execution_arn
from declarative_wf.formats.asl.validate import validate_document
from declarative_wf.loading import load_text

from ...httpserver import JsonHandler, LocalServer, serving
from .helpers import compile_definition, engine_client

GET_OBJECT = "arn:aws:states:::s3:getObject"


def read(request: dict[str, Any]) -> Any:
    return asyncio.run(read_items(request))


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DWF_ITEM_ROOT", str(tmp_path))
    (tmp_path / "bucket").mkdir()
    return tmp_path


# -- the activity ---------------------------------------------------------------------------------


def test_reads_json_jsonl_and_csv_files(root: Path) -> None:
    (root / "bucket" / "a.json").write_text(json.dumps([{"n": 1}, {"n": 2}, {"n": 3}]))
    (root / "bucket" / "a.jsonl").write_text('{"n": 1}\n\n{"n": 2}\n')
    (root / "bucket" / "a.csv").write_text("id,name\n1,ann\n2,bob\n")
    (root / "bucket" / "b.csv").write_text("1|ann\n2|bob\n")
    s3 = {"Bucket": "bucket"}
    assert read({"Resource": GET_OBJECT, "Parameters": {**s3, "Key": "a.json"}}) == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert read({"Resource": GET_OBJECT, "Parameters": {**s3, "Key": "a.json"}, "ReaderConfig": {"MaxItems": 2}}) == [{"n": 1}, {"n": 2}]
    assert read({"Resource": GET_OBJECT, "Parameters": {**s3, "Key": "a.jsonl"}, "ReaderConfig": {"InputType": "JSONL"}}) == [{"n": 1}, {"n": 2}]
    assert read({"Resource": GET_OBJECT, "Parameters": {**s3, "Key": "a.csv"}, "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"}}) == [
        {"id": "1", "name": "ann"},
        {"id": "2", "name": "bob"},
    ]
    given = {"InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["id", "name"], "CSVDelimiter": "PIPE", "MaxItems": 1}
    assert read({"Parameters": {"Path": "bucket/b.csv"}, "ReaderConfig": given}) == [{"id": "1", "name": "ann"}]


@pytest.mark.parametrize(
    ("request_", "files", "message"),
    [
        ({"Parameters": {"Bucket": "bucket", "Key": "missing.json"}}, {}, "no file"),
        ({"Parameters": {"Path": "../outside.json"}}, {}, "outside $DWF_ITEM_ROOT"),
        ({"Parameters": {"Bucket": "bucket", "Key": "bad.json"}}, {"bad.json": "{nope"}, "is not JSON"),
        ({"Parameters": {"Bucket": "bucket", "Key": "obj.json"}}, {"obj.json": "{}"}, "must hold a JSON array"),
        ({"Parameters": {"Bucket": "bucket", "Key": "x.jsonl"}, "ReaderConfig": {"InputType": "JSONL"}}, {"x.jsonl": "1\n{"}, "line 2 is not JSON"),
        ({"Parameters": {"Bucket": "bucket", "Key": "x.csv"}, "ReaderConfig": {"InputType": "CSV"}}, {"x.csv": "a\n1,2\n"}, "2 fields but there are 1 headers"),
        ({"Parameters": {"Bucket": "bucket", "Key": "x.csv"}, "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "GIVEN"}}, {"x.csv": "1"}, "needs CSVHeaders"),
        ({"Parameters": {"Bucket": "bucket", "Key": "x"}, "ReaderConfig": {"InputType": "PARQUET"}}, {}, "InputType 'PARQUET' is not supported"),
        ({"Parameters": {"Bucket": "bucket", "Key": "x"}, "ReaderConfig": {"MaxItems": -1}}, {}, "MaxItems must be a non-negative integer"),
        ({"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {"Bucket": "bucket"}}, {}, "is not supported"),
        ({"Parameters": {}}, {}, "need Bucket and Key, Url, or Path"),
        ({"Parameters": {"Url": "ftp://example.com/x"}}, {}, "http:// or https:// URL"),
    ],
)
def test_refusals_name_the_problem(root: Path, request_: dict[str, Any], files: dict[str, str], message: str) -> None:
    for name, text in files.items():
        (root / "bucket" / name).write_text(text)
    with pytest.raises(ItemReaderFailed, match=message.replace("$", r"\$").replace("(", r"\(")):
        read(request_)


def test_local_files_need_a_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DWF_ITEM_ROOT", raising=False)
    with pytest.raises(ItemReaderFailed, match=r"DWF_ITEM_ROOT names, and it is not set"):
        read({"Parameters": {"Bucket": "b", "Key": "k"}})


# -- validation -----------------------------------------------------------------------------------


def _codes(reader: dict[str, Any]) -> list[str]:
    machine = {
        "StartAt": "M",
        "States": {"M": {"Type": "Map", "ItemReader": reader, "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, "End": True}},
    }
    return [d.code for d in validate_document(load_text(json.dumps(machine), "m.asl.json"))]


def test_validation_of_readers() -> None:
    assert _codes({"Resource": GET_OBJECT, "Parameters": {"Bucket": "b", "Key": "k"}}) == []
    assert _codes({"Resource": GET_OBJECT, "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "GIVEN"}}) == ["ASL-E046"]
    assert _codes({"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {"Bucket": "b"}}) == ["ASL-W001"]


# -- on the engine --------------------------------------------------------------------------------


class _Files(JsonHandler):
    def do_GET(self) -> None:
        if self.path == "/items.jsonl":
            self._send(200, b"".join(json.dumps({"sku": f"s{i}"}).encode() + b"\n" for i in range(5)))
        else:
            self._send(404, b"not here")


@pytest.fixture(scope="module")
def web() -> Iterator[str]:
    with serving(LocalServer(_Files)) as server:
        yield server.url


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkflowClient]:
    with engine_client(tmp_path_factory.mktemp("reader") / "reader.db", Registry()) as workflow_client:
        yield workflow_client


_ids = itertools.count()


def run(client: WorkflowClient, machine: dict[str, Any], data: Any, timeout: float = 60) -> Any:
    instance = client.start(compile_definition(machine), data, instance_id=f"reader-{next(_ids)}")
    done = client.wait(instance, timeout=timeout)
    assert done is not None
    return instance, done


def map_machine(reader: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemReader": reader,
                "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
                "End": True,
                **fields,
            }
        },
    }


@pytest.mark.integration
def test_map_reads_a_csv_file_through_the_s3_mapping(client: WorkflowClient, root: Path) -> None:
    (root / "bucket" / "orders.csv").write_text("id;qty\n1;5\n2;7\n3;9\n")
    machine = map_machine(
        {
            "Resource": GET_OBJECT,
            "Parameters": {"Bucket": "bucket", "Key.$": "$.key"},
            "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "CSVDelimiter": "SEMICOLON", "MaxItemsPath": "$.max"},
        },
        ItemSelector={"order.$": "$$.Map.Item.Value.id", "index.$": "$$.Map.Item.Index"},
    )
    _, done = run(client, machine, {"key": "orders.csv", "max": 2})
    assert done.status == "COMPLETED", done
    assert done.output == [{"order": "1", "index": 0}, {"order": "2", "index": 1}]


@pytest.mark.integration
def test_map_reads_jsonl_from_a_local_http_server(client: WorkflowClient, web: str) -> None:
    machine = map_machine({"Resource": GET_OBJECT, "Parameters": {"Url": f"{web}/items.jsonl"}, "ReaderConfig": {"InputType": "JSONL"}})
    _, done = run(client, machine, {})
    assert done.status == "COMPLETED", done
    assert done.output == [{"sku": f"s{i}"} for i in range(5)]


@pytest.mark.integration
def test_a_failed_read_is_states_item_reader_failed_and_can_be_caught(client: WorkflowClient, web: str) -> None:
    machine = map_machine({"Resource": GET_OBJECT, "Parameters": {"Url": f"{web}/missing.json"}})
    _, done = run(client, machine, {})
    assert done.status == "FAILED"
    assert done.error is not None and done.error["Error"] == "States.ItemReaderFailed"
    assert "the server answered 404" in done.error["Cause"]
    caught = map_machine(
        {"Resource": GET_OBJECT, "Parameters": {"Url": f"{web}/missing.json"}},
        Catch=[{"ErrorEquals": ["States.ItemReaderFailed"], "ResultPath": "$.error", "Next": "Fallback"}],
    )
    caught["States"]["Fallback"] = {"Type": "Pass", "End": True}
    _, done = run(client, caught, {"a": 1})
    assert done.status == "COMPLETED" and done.output["error"]["Error"] == "States.ItemReaderFailed"


@pytest.mark.integration
@pytest.mark.slow
def test_map_of_10000_items_from_a_reader_keeps_the_parent_execution_context(client: WorkflowClient, root: Path) -> None:
    (root / "bucket" / "big.json").write_text(json.dumps(list(range(10_000))))
    machine = map_machine(
        {"Resource": GET_OBJECT, "Parameters": {"Bucket": "bucket", "Key": "big.json"}},
        ItemSelector={"v.$": "$$.Map.Item.Value", "execution.$": "$$.Execution.Id", "name.$": "$$.Execution.Name", "start.$": "$$.Execution.StartTime"},
        ResultSelector={
            "count.$": "States.ArrayLength($)",
            "executions.$": "States.ArrayUnique($[*].execution)",
            "names.$": "States.ArrayUnique($[*].name)",
            "starts.$": "States.ArrayUnique($[*].start)",
            "last.$": "$[9999].v",
        },
    )
    instance, done = run(client, machine, {}, timeout=300)
    assert done.status == "COMPLETED", done
    assert done.output["count"] == 10_000 and done.output["last"] == 9999
    assert done.output["executions"] == [execution_arn("machine", instance)]
    assert done.output["names"] == [instance]
    assert len(done.output["starts"]) == 1


# -- ResultWriter ---------------------------------------------------------------------------------


def test_result_writer_writes_manifest_and_result_files(root: Path) -> None:
    from declarative_wf.activities.result_writer import (
        ResultWriterFailed,
        write_results,
    )

    outcomes = [{"ok": True, "value": [1, 2]}, {"ok": False, "error": {"type": "Boom", "message": "bad"}}, {"ok": True, "value": 3}]
    base = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "bucket", "Prefix": "out"}, "Outcomes": outcomes,
            "Items": ["a", "b", "c"], "Run": "r1", "Workflow": "wf"}  # fmt: skip
    answer = write_results(base)
    assert answer == {"MapRunArn": "arn:aws:states:local:000000000000:mapRun:wf/r1:r1", "ResultWriterDetails": {"Bucket": "bucket", "Key": "out/r1/manifest.json"}}
    run = root / "bucket" / "out" / "r1"
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["ResultFiles"]["SUCCEEDED"] == [{"Key": "out/r1/SUCCEEDED_0.json", "Size": (run / "SUCCEEDED_0.json").stat().st_size}]
    assert json.loads((run / "SUCCEEDED_0.json").read_text()) == [
        {"Index": 0, "Input": '"a"', "Output": "[1,2]", "Status": "SUCCEEDED"},
        {"Index": 2, "Input": '"c"', "Output": "3", "Status": "SUCCEEDED"},
    ]
    assert json.loads((run / "FAILED_0.json").read_text()) == [{"Index": 1, "Input": '"b"', "Error": "Boom", "Cause": "bad", "Status": "FAILED"}]
    write_results({**base, "Run": "r2", "WriterConfig": {"OutputType": "JSONL", "Transformation": "FLATTEN"}})
    assert (root / "bucket" / "out" / "r2" / "SUCCEEDED_0.jsonl").read_text() == "1\n2\n3\n"
    write_results({**base, "Run": "r3", "WriterConfig": {"Transformation": "COMPACT"}})
    assert json.loads((root / "bucket" / "out" / "r3" / "SUCCEEDED_0.json").read_text()) == [[1, 2], 3]
    with pytest.raises(ResultWriterFailed, match="outside"):
        write_results({**base, "Parameters": {"Path": "../../elsewhere"}})
    with pytest.raises(ResultWriterFailed, match="Transformation 'X' is not supported"):
        write_results({**base, "WriterConfig": {"Transformation": "X"}})


@pytest.mark.integration
def test_map_reads_and_writes_its_results(client: WorkflowClient, root: Path) -> None:
    (root / "bucket" / "in.json").write_text(json.dumps([{"n": 1}, {"n": 2}]))
    machine = map_machine(
        {"Resource": GET_OBJECT, "Parameters": {"Bucket": "bucket", "Key": "in.json"}},
        ResultWriter={
            "Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": "bucket", "Prefix.$": "$.prefix"},
            "WriterConfig": {"OutputType": "JSON", "Transformation": "COMPACT"},
        },
    )
    _, done = run(client, machine, {"prefix": "results"})
    assert done.status == "COMPLETED", done
    key = done.output["ResultWriterDetails"]["Key"]
    assert done.output["ResultWriterDetails"]["Bucket"] == "bucket" and key.startswith("results/") and key.endswith("/manifest.json")
    manifest = json.loads((root / "bucket" / key).read_text())
    result_file = manifest["ResultFiles"]["SUCCEEDED"][0]["Key"]
    assert json.loads((root / "bucket" / result_file).read_text()) == [{"n": 1}, {"n": 2}]
    assert manifest["MapRunArn"] == done.output["MapRunArn"]


@pytest.mark.integration
def test_a_failed_write_is_states_result_writer_failed(client: WorkflowClient, root: Path) -> None:
    (root / "bucket" / "in.json").write_text("[1]")
    machine = map_machine(
        {"Resource": GET_OBJECT, "Parameters": {"Bucket": "bucket", "Key": "in.json"}},
        ResultWriter={"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Path": "../../x"}},
    )
    _, done = run(client, machine, {})
    assert done.status == "FAILED" and done.error is not None and done.error["Error"] == "States.ResultWriterFailed"


def test_validation_of_writers() -> None:
    def codes(writer: dict[str, Any]) -> list[str]:
        machine = {"StartAt": "M", "States": {"M": {"Type": "Map", "ResultWriter": writer, "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, "End": True}}}
        return [d.code for d in validate_document(load_text(json.dumps(machine), "m.asl.json"))]

    assert codes({"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b", "Prefix": "p"}}) == []
    assert codes({"Resource": "arn:aws:states:::s3:putObject", "WriterConfig": {"Transformation": "ALL"}}) == ["ASL-E046"]
    assert codes({"Resource": "arn:aws:states:::lambda:invoke"}) == ["ASL-W001"]
