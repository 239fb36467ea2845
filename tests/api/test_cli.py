"""``dwf submit``, ``dwf definitions`` and ``dwf workflow`` against a running server, and
``dwf serve`` start-up, usage errors and SIGTERM."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from .definitions import BROKEN, DOUBLER, WAITER_V1
from .servers import Served, env, start_serve

pytestmark = pytest.mark.integration


def dwf(served: Served | None, *args: str, cwd: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    extra = {"DWF_SERVER": served.url} if served is not None else {}
    return subprocess.run(
        [sys.executable, "-m", "declarative_wf.cli", *args],
        capture_output=True, text=True, env=env(extra), cwd=cwd, input=stdin, timeout=120, check=False,
    )  # fmt: skip


def test_submit_and_definitions(served: Served, tmp_path: Path) -> None:
    (tmp_path / "doubler.yaml").write_text(DOUBLER)
    (tmp_path / "broken.yaml").write_text(BROKEN)
    first = dwf(served, "submit", "doubler.yaml", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    [result] = json.loads(first.stdout)  # piped: JSON
    assert result["file"] == "doubler.yaml" and result["definition"]["ref"] == "doubler@1.0" and result["created"]
    table = dwf(served, "submit", "doubler.yaml", "-o", "table", cwd=tmp_path)
    assert table.returncode == 0 and "doubler@1.0" in table.stdout and "unchanged" in table.stdout
    bad = dwf(served, "submit", "broken.yaml", cwd=tmp_path)
    assert bad.returncode == 2
    lines = bad.stderr.strip().splitlines()
    assert lines[0].startswith("broken.yaml:4:5: DSL-E001") and lines[1].startswith("broken.yaml:5:")
    assert dwf(served, "submit", "missing.yaml", cwd=tmp_path).returncode == 2

    listing = dwf(served, "definitions", "list", "-o", "table")
    assert listing.returncode == 0 and listing.stdout.splitlines()[0].split() == ["NAME", "LATEST", "VERSIONS", "FORMAT", "SUBMITTED"]
    assert any(line.split()[:3] == ["doubler", "1.0", "1"] for line in listing.stdout.splitlines())
    versions = json.loads(dwf(served, "definitions", "list", "doubler").stdout)
    assert [v["version"] for v in versions] == ["1.0"]
    source = dwf(served, "definitions", "get", "doubler@1.0", "--source")
    assert source.stdout == DOUBLER
    graph = json.loads(dwf(served, "definitions", "get", "doubler", "--graph").stdout)
    assert graph["name"] == "doubler"
    shown = yaml.safe_load(dwf(served, "definitions", "get", "doubler", "-o", "yaml").stdout)
    assert shown["version"] == "1.0" and shown["source"] == DOUBLER
    missing = dwf(served, "definitions", "get", "nothing")
    assert missing.returncode == 1 and "ERR_DEFINITION_NOT_FOUND (404)" in missing.stderr

    (tmp_path / "temp.yaml").write_text(WAITER_V1.replace("name: waiter", "name: temp"))
    dwf(served, "submit", "temp.yaml", cwd=tmp_path)
    deleted = json.loads(dwf(served, "definitions", "delete", "temp").stdout)
    assert [d["ref"] for d in deleted] == ["temp@1"]


def test_workflow_commands(served: Served, tmp_path: Path) -> None:
    (tmp_path / "waiter.yaml").write_text(WAITER_V1.replace("name: waiter", "name: cliwait"))
    (tmp_path / "doubler.yaml").write_text(DOUBLER)
    assert dwf(served, "submit", "waiter.yaml", "doubler.yaml", cwd=tmp_path).returncode == 0

    done = dwf(served, "workflow", "start", "doubler", "--input", '{"n": 5}', "--wait", "--timeout", "60")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["output"] == {"n": 10}
    started = dwf(served, "workflow", "start", "cliwait", "--instance-id", "cli-1", "--input-file", "-", stdin='{"a": 1}')
    assert json.loads(started.stdout) == {"instanceID": "cli-1", "workflowName": "cliwait", "version": "1", "hash": json.loads(started.stdout)["hash"]}
    table = dwf(served, "workflow", "get", "cli-1", "-o", "table")
    assert "definition  cliwait@1" in table.stdout and "input       {\"a\": 1}" in table.stdout
    for action in (("suspend", "cli-1", "--reason", "why"), ("resume", "cli-1")):
        answer = dwf(served, "workflow", *action)
        assert answer.returncode == 0 and json.loads(answer.stdout)["accepted"] is True
    event = dwf(served, "workflow", "raise-event", "cli-1", "go", "--data", '{"x": 1}', "-o", "table")
    assert event.returncode == 0 and event.stdout.strip() == "cli-1: raise-event accepted"
    final = dwf(served, "workflow", "start", "cliwait", "--instance-id", "cli-2")
    assert final.returncode == 0
    terminated = dwf(served, "workflow", "terminate", "cli-2", "--result", '"stopped"')
    assert terminated.returncode == 0
    history = dwf(served, "workflow", "history", "cli-1", "-o", "table")
    assert history.returncode == 0 and "eventRaised" in history.stdout
    listed = json.loads(dwf(served, "workflow", "list", "--definition", "cliwait", "--all").stdout)
    assert {i["instanceID"] for i in listed["instances"]} == {"cli-1", "cli-2"}
    paged = dwf(served, "workflow", "list", "--definition", "cliwait", "--page-size", "1", "-o", "table")
    assert "cli-1" in paged.stdout and "--continuation-token" in paged.stderr
    terminated_only = json.loads(dwf(served, "workflow", "list", "--definition", "cliwait", "--status", "terminated").stdout)
    assert [i["instanceID"] for i in terminated_only["instances"]] == ["cli-2"]
    assert dwf(served, "workflow", "purge", "cli-2").returncode == 0
    gone = dwf(served, "workflow", "get", "cli-2")
    assert gone.returncode == 1 and "ERR_INSTANCE_ID_NOT_FOUND" in gone.stderr
    failed = dwf(served, "workflow", "start", "doubler", "--input", '{"n": "x"}')
    assert failed.returncode == 1 and "ERR_WORKFLOW_INPUT_INVALID" in failed.stderr
    usage = dwf(served, "workflow", "start", "doubler", "--input", "{oops")
    assert usage.returncode == 2 and "--input is not valid JSON" in usage.stderr
    unreachable = subprocess.run(
        [sys.executable, "-m", "declarative_wf.cli", "workflow", "get", "x", "--server", "http://127.0.0.1:9"],
        capture_output=True, text=True, env=env(), check=False,
    )  # fmt: skip
    assert unreachable.returncode == 1 and "ERR_CONNECTION" in unreachable.stderr


def test_serve_with_a_definitions_directory_and_sigterm(tmp_path: Path) -> None:
    definitions = tmp_path / "definitions"
    definitions.mkdir()
    (definitions / "doubler.yaml").write_text(DOUBLER)
    (definitions / "waiter.yml").write_text(WAITER_V1)
    served = start_serve(tmp_path / "state.db", "--definitions", str(definitions))
    with httpx.Client(base_url=served.url) as http:
        names = [d["name"] for d in http.get("/api/v1/definitions").json()["definitions"]]
        assert names == ["doubler", "waiter"]
        assert http.post("/v1.0/workflows/dapr/waiter/start", params={"instanceID": "kept"}).status_code == 202
    assert served.terminate() == 0
    # Started again on the same files: the instance and the definitions are still there.
    again = start_serve(tmp_path / "state.db")
    try:
        with httpx.Client(base_url=again.url) as http:
            assert http.get("/api/v1/instances/kept").json()["runtimeStatus"] == "RUNNING"
            assert len(http.get("/api/v1/definitions").json()["definitions"]) == 2
    finally:
        assert again.terminate() == 0


def test_serve_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "broken.yaml").write_text(BROKEN)
    cases = [
        (("--http-port", "70000"), "not a port number"),
        (("--definitions", str(tmp_path / "bad")), "broken.yaml:4:5: DSL-E001"),
        (("--api-token-env", "DWF_NOT_SET"), "not set or empty"),
        (("--activities", "no_such_module_here"), "no_such_module_here"),
        (("--enable", "shell,teleport"), "--enable"),
    ]
    for args, expected in cases:
        result = dwf(None, "serve", "--db", str(tmp_path / "x.db"), "--http-port", "0", "--grpc-port", "0", *args)
        assert result.returncode == 2, (args, result.stderr)
        assert expected in result.stderr, (args, result.stderr)
    busy = start_serve(tmp_path / "busy.db")
    try:
        result = dwf(None, "serve", "--db", str(tmp_path / "busy.db"), "--http-port", "0", "--grpc-port", "0")
        assert result.returncode == 2 and "in use by an engine" in result.stderr
        port = busy.url.rsplit(":", 1)[1]
        taken = dwf(None, "serve", "--db", str(tmp_path / "other.db"), "--http-port", port, "--grpc-port", "0")
        assert taken.returncode == 2 and "cannot listen" in taken.stderr
    finally:
        busy.terminate()


def test_worker_usage_errors() -> None:
    result = dwf(None, "worker")
    assert result.returncode == 2 and "--dapr-grpc-endpoint" in result.stderr
