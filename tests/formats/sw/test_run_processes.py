"""End-to-end runs of run: shell | script | container and run.workflow with await: false, on the
real embedded engine (processes are real subprocesses; there is no container daemon here, so
run: container is checked through its command line and its errors)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

import declarative_wf
from declarative_wf.activities.sw_run import (
    OUTPUT_LIMIT,
    container_command,
    detached_instance_id,
    enable_processes,
    enabled_processes,
)
from declarative_wf.client import WorkflowClient
from declarative_wf.engine import Engine
from declarative_wf.worker import start_worker

from .run_helpers import definition, run_sw

pytestmark = pytest.mark.integration

STD = "https://serverlessworkflow.io/spec/1.0.0/errors/"
CORPUS = Path(os.environ.get("DWF_CORPUS", Path(__file__).parents[4] / "shared" / "corpus")) / "serverless-workflow-1.0"


@pytest.fixture
def enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DWF_ENABLE_PROCESSES", "shell,script,container")


def test_off_by_default_fails_with_a_configuration_error_naming_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DWF_ENABLE_PROCESSES", raising=False)
    result = run_sw(tmp_path, """
        do:
          - s:
              run:
                shell:
                  command: echo hi
    """)
    assert result.status == "FAILED"
    assert result.error["type"] == STD + "configuration" and result.error["status"] == 400
    assert "DWF_ENABLE_PROCESSES=shell" in result.error["detail"]
    assert result.error["instance"] == "/do/0/s"


def test_validation_warns_when_processes_are_not_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    from declarative_wf.formats import load_definition_text

    monkeypatch.delenv("DWF_ENABLE_PROCESSES", raising=False)
    loaded = load_definition_text(definition("do:\n  - s:\n      run:\n        shell:\n          command: echo hi\n"), "wf.sw.yaml")
    warnings = loaded.document.warnings
    assert any("DWF_ENABLE_PROCESSES=shell" in d.message and d.position is not None for d in warnings)


def test_python_api_enables_kinds() -> None:
    try:
        enable_processes("script")
        assert enabled_processes() == frozenset({"script"})
        enable_processes("all")
        assert enabled_processes() == frozenset({"shell", "script", "container"})
    finally:
        enable_processes(None)


def test_shell_corpus_example_stdin_and_arguments(tmp_path: Path, enabled: None) -> None:
    example = CORPUS / "examples" / "run-shell-stdin-and-arguments.yaml"
    if not example.is_file():
        pytest.skip(f"corpus not found at {example} (set DWF_CORPUS)")
    result = declarative_wf.run(example, None, db=tmp_path / "run.db")
    assert result.status == "COMPLETED", result.error
    assert result.output == "STDIN was: Hello World\nARGS are Foo Bar\n"


def test_shell_return_modes_environment_and_arguments_are_not_shell_syntax(tmp_path: Path, enabled: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKER_SECRET", "leak")
    result = run_sw(tmp_path, """
        do:
          - all:
              run:
                shell:
                  command: 'echo "$GREETING $1 [$WORKER_SECRET]"; echo oops >&2; exit 3'
                  arguments: ['${ .who }']
                  environment:
                    GREETING: Hello
                return: all
              export:
                as: '{all: .}'
          - code:
              run:
                shell:
                  command: exit 4
                return: code
              export:
                as: '$context + {code: .}'
          - stderr:
              run:
                shell:
                  command: echo to-stderr >&2
                return: stderr
              export:
                as: '$context + {stderr: .}'
          - none:
              run:
                shell:
                  command: echo ignored
                return: none
              output:
                as: '$context + {none: .}'
    """, {"who": "$(touch pwned); x"})
    assert result.status == "COMPLETED", result.error
    assert result.output == {
        "all": {"code": 3, "stdout": "Hello $(touch pwned); x []\n", "stderr": "oops\n"},
        "code": 4, "stderr": "to-stderr\n", "none": None,
    }
    assert not (tmp_path / "pwned").exists()


def test_non_zero_exit_is_a_runtime_error_for_stdout(tmp_path: Path, enabled: None) -> None:
    result = run_sw(tmp_path, """
        do:
          - fail:
              run:
                shell:
                  command: echo bad input >&2; exit 2
    """)
    assert result.status == "FAILED"
    assert result.error["type"] == STD + "runtime"
    assert "exited with code 2: bad input" in result.error["detail"]


def test_timeout_kills_the_process(tmp_path: Path, enabled: None) -> None:
    started = time.monotonic()
    result = run_sw(tmp_path, """
        do:
          - slow:
              timeout:
                after: {seconds: 1}
              run:
                shell:
                  command: sleep 30
    """)
    assert result.status == "FAILED"
    assert result.error["type"] == STD + "timeout"
    assert time.monotonic() - started < 20


def test_output_is_capped(tmp_path: Path, enabled: None) -> None:
    result = run_sw(tmp_path, """
        do:
          - big:
              run:
                shell:
                  command: head -c 3000000 /dev/zero | tr '\\0' a
              output:
                as: length
    """)
    assert result.status == "COMPLETED", result.error
    assert result.output == OUTPUT_LIMIT


def test_python_script_with_stdin_arguments_environment(tmp_path: Path, enabled: None) -> None:
    result = run_sw(tmp_path, """
        do:
          - py:
              run:
                script:
                  language: python
                  stdin: ${ .text }
                  arguments: [one, '${ .n }']
                  environment: {FOO: bar}
                  code: |
                    import json, os, sys
                    print(json.dumps({"stdin": sys.stdin.read(), "args": sys.argv[1:], "foo": os.environ["FOO"]}))
              output:
                as: fromjson
    """, {"text": "hello", "n": 2})
    assert result.status == "COMPLETED", result.error
    assert result.output == {"stdin": "hello", "args": ["one", "2"], "foo": "bar"}


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH")
def test_js_script_corpus_example(tmp_path: Path, enabled: None) -> None:
    example = CORPUS / "examples" / "run-script-with-stdin-and-arguments.yaml"
    if not example.is_file():
        pytest.skip(f"corpus not found at {example} (set DWF_CORPUS)")
    result = declarative_wf.run(example, None, db=tmp_path / "run.db")
    assert result.status == "COMPLETED", result.error
    assert result.output == "stdin >  Hello Workflow\narg >  hello\nenv >  bar\n"


def test_js_without_node_is_a_configuration_error(tmp_path: Path, enabled: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no node here
    result = run_sw(tmp_path, """
        do:
          - js:
              run:
                script:
                  language: js
                  code: console.log(1)
    """)
    assert result.status == "FAILED"
    assert result.error["type"] == STD + "configuration"
    assert "needs node" in result.error["detail"]


def test_await_false_starts_detached_and_outputs_the_input(tmp_path: Path, enabled: None) -> None:
    marker = tmp_path / "marker"
    result = run_sw(tmp_path, f"""
        do:
          - bg:
              run:
                shell:
                  command: sleep 0.3; echo done > {marker}
                await: false
    """, {"keep": 1})
    assert result.status == "COMPLETED", result.error
    assert result.output == {"keep": 1}
    deadline = time.monotonic() + 10
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert marker.read_text() == "done\n"


def test_container_without_runtime_is_a_clear_error(tmp_path: Path, enabled: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    result = run_sw(tmp_path, """
        do:
          - c:
              run:
                container:
                  image: alpine
    """)
    assert result.status == "FAILED"
    assert result.error["type"] == STD + "configuration"
    assert "no container runtime (docker or podman) found" in result.error["detail"]


def test_container_command_line() -> None:
    argv = container_command({
        "image": "alpine", "name": "my box", "command": 'echo "$1"', "stdin": "x", "environment": {"A": "1"},
        "ports": {"8080": 80}, "volumes": {"/data": "/mnt"}, "pullPolicy": "always",
    }, ["Foo"], "docker")
    assert argv == ["docker", "run", "--rm", "-i", "--name", "my-box", "--pull=always", "-e", "A=1", "-p", "8080:80",
                    "-v", "/data:/mnt", "alpine", "sh", "-c", 'echo "$1"', "sh", "Foo"]
    kept = container_command({"image": "hello-world", "lifetime": {"cleanup": "never"}, "task": "t", "workflow": "w",
                              "namespace": "n"}, [], "podman")
    assert "--rm" not in kept and "--pull=missing" in kept and kept[-1] == "hello-world"
    assert kept[kept.index("--name") + 1].startswith("w-") and kept[kept.index("--name") + 1].endswith(".n-t")


def test_bad_process_definitions_are_compile_errors() -> None:
    from .run_helpers import diagnostics

    found = diagnostics("do:\n  - s:\n      run:\n        script:\n          language: ruby\n          code: x\n")
    assert any(d.code in ("SW-E113", "SW-E001") and d.position is not None for d in found)


def test_detached_instance_id_is_deterministic() -> None:
    one = detached_instance_id("parent-1", "/do/0/x", 3)
    assert one == detached_instance_id("parent-1", "/do/0/x", 3) != detached_instance_id("parent-1", "/do/0/x", 4)
    assert len(one) <= 64


def test_run_workflow_await_false_outlives_the_parent(tmp_path: Path) -> None:
    (tmp_path / "child.yaml").write_text(definition("""
        do:
          - pause:
              wait: {seconds: 1}
          - done:
              set:
                child: ${ .n }
    """.replace("\n        ", "\n"), name="child"))
    parent = tmp_path / "parent.yaml"
    parent.write_text(definition("""
do:
  - start:
      run:
        workflow: {namespace: test, name: child, version: '1.0.0', input: {n: '${ .n + 1 }'}}
        await: false
"""))
    db = tmp_path / "run.db"
    result = declarative_wf.run(parent, {"n": 1}, db=db)
    assert result.status == "COMPLETED", result.error
    assert result.output == {"n": 1}
    with sqlite3.connect(db) as connection:
        ids = [row[0] for row in connection.execute("SELECT instance_id FROM instances")]
    children = [i for i in ids if i != result.instance_id]
    assert len(children) == 1 and "-run-" in children[0]
    with Engine(db) as engine:  # a new worker finishes the independent child
        runtime = start_worker(engine.host, engine.port)
        try:
            with WorkflowClient(engine.address) as client:
                state = client.wait(children[0], timeout=60)
        finally:
            runtime.shutdown()
    assert state is not None and state.status == "COMPLETED"
    assert state.output == {"child": 2}


def test_run_workflow_await_false_needs_the_child_file(tmp_path: Path) -> None:
    from .run_helpers import diagnostics

    found = diagnostics("do:\n  - s:\n      run:\n        workflow: {namespace: x, name: nowhere, version: '1.0.0'}\n        await: false\n")
    assert any(d.code == "SW-E104" and "await: false" in d.message for d in found)


def test_cli_enable_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from declarative_wf.cli import main

    monkeypatch.delenv("DWF_ENABLE_PROCESSES", raising=False)
    path = tmp_path / "wf.sw.yaml"
    path.write_text(definition("do:\n  - s:\n      run:\n        shell:\n          command: echo \"$1\"\n"
                               "          arguments: ['${ .x }']\n"), encoding="utf-8")
    try:
        assert main(["run", str(path), "--input", '{"x": "flag"}', "--db", str(tmp_path / "r.db"), "-q", "--enable", "shell"]) == 0
        assert '"flag\\n"' in capsys.readouterr().out
        assert main(["run", str(path), "--enable", "shel"]) == 2
        assert "unknown process kind shel" in capsys.readouterr().err
    finally:
        enable_processes(None)
