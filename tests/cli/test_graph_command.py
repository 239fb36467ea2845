"""`dwf graph`: Mermaid by default, DOT on request, -o FILE, exit 2 for invalid definitions."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from declarative_wf.cli import main
from declarative_wf.graph import to_dot, to_mermaid

from ..graph import workflows
from .formats_stub import formats, real  # noqa: F401 - fixtures
from .test_validate_command import BROKEN, DEMO, TWO_ERRORS, Terminal, problems, write


def demo_named(name: str) -> workflows.Workflow:
    workflow = workflows.demo()
    workflow.name = name
    return workflow


def test_mermaid_is_the_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", write(tmp_path, "wf.yaml", "name: shop\n")]) == 0
    out, err = capsys.readouterr()
    assert out == to_mermaid(demo_named("shop")) and err == ""
    assert out.startswith('---\ntitle: "shop"\n---\nflowchart TD\n')


def test_dot_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", "--format", "dot", write(tmp_path, "wf.yaml", "name: shop\n")]) == 0
    assert capsys.readouterr().out == to_dot(demo_named("shop"))


def test_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out.dot"
    assert main(["graph", write(tmp_path, "wf.yaml", "name: shop\n"), "--format", "dot", "-o", str(target)]) == 0
    assert capsys.readouterr().out == ""
    assert target.read_text(encoding="utf-8") == to_dot(demo_named("shop"))


def test_unwritable_output_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "no" / "such" / "dir" / "out.mmd"
    assert main(["graph", write(tmp_path, "wf.yaml", VALID), "-o", str(target)]) == 1
    assert "cannot write" in capsys.readouterr().err


VALID = "name: shop\n"


def test_invalid_definition_exits_2_with_diagnostics_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "bad.yaml", TWO_ERRORS)
    assert main(["graph", path]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert [(p["line"], p["code"]) for p in problems(err)] == [("1", "DSL-E001"), ("3", "DSL-E002")]


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "missing.yaml")
    assert main(["graph", missing]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"{missing}: LOAD-E001 ") and "Traceback" not in err


def test_warnings_go_to_stderr_and_the_graph_is_still_drawn(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "w.yaml", "name: shop\nwarnings: [{code: DSL-W001, message: hmm, at: /name}]\n")
    assert main(["graph", path]) == 0
    out, err = capsys.readouterr()
    assert out == to_mermaid(demo_named("shop")) and err == f"{path}:1:7: DSL-W001 hmm\n"


def test_terminal_shows_the_source_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    err = Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert main(["graph", write(tmp_path, "bad.yaml", TWO_ERRORS)]) == 2
    assert err.getvalue().splitlines()[1:3] == ["1 | name: broken", "  |       ^"]


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["graph"], ["graph", "--format", "svg", "x.yaml"], ["graph", "a.yaml", "b.yaml"]):
        with pytest.raises(SystemExit) as exit:
            main(argv)
        assert exit.value.code == 2
    assert "usage: dwf graph" in capsys.readouterr().err


def test_without_the_formats_package_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setitem(sys.modules, "declarative_wf.formats", None)
    assert main(["graph", write(tmp_path, "a.yaml", VALID)]) == 2
    assert "definition formats are not available" in capsys.readouterr().err


# --------------------------------------------------------------------------- the real DSL


@pytest.mark.usefixtures("real")
def test_real_demo_mermaid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", write(tmp_path, "demo.yaml", DEMO)]) == 0
    out = capsys.readouterr().out
    assert out.startswith('---\ntitle: "demo"\n---\nflowchart TD\n')
    for text in ("validate_order", "charge", "notify", "CardDeclined", "retry up to", "result.total #gt; #96;100#96;"):
        assert text in out, text


@pytest.mark.usefixtures("real")
def test_real_demo_dot_parses_with_graphviz(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", "--format", "dot", write(tmp_path, "demo.yaml", DEMO)]) == 0
    out = capsys.readouterr().out
    assert out.startswith('digraph "demo" {') and 'label="CardDeclined"' in out
    if shutil.which("dot") is not None:
        run = subprocess.run(["dot", "-Tsvg"], input=out, capture_output=True, text=True, timeout=60, check=False)
        assert run.returncode == 0 and run.stderr == "", run.stderr


@pytest.mark.usefixtures("real")
@pytest.mark.parametrize(("name", "text", "line"), BROKEN, ids=[b[0] for b in BROKEN])
def test_real_broken_definitions_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        name: str, text: str, line: int) -> None:  # fmt: skip
    assert main(["graph", write(tmp_path, f"{name}.yaml", text)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and line in {int(p["line"]) for p in problems(err)}


@pytest.mark.usefixtures("real")
def test_real_cli_as_a_process(tmp_path: Path) -> None:
    """The installed entry point, end to end: stdout is the graph, nothing else."""
    path = write(tmp_path, "demo.yaml", DEMO)
    run = subprocess.run([sys.executable, "-m", "declarative_wf.cli", "graph", path], capture_output=True,
                         text=True, encoding="utf-8", timeout=120, check=False)  # fmt: skip
    assert run.returncode == 0 and run.stderr == "" and "flowchart TD" in run.stdout


SAMPLES = sorted((Path(__file__).parents[2] / "samples").glob("*/*.dwf.yaml"))


@pytest.mark.usefixtures("real")
@pytest.mark.parametrize("sample", SAMPLES, ids=[s.parent.name for s in SAMPLES])
def test_real_samples_graph_in_both_formats(sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("mermaid", "dot"):
        out = tmp_path / f"graph.{fmt}"
        assert main(["graph", str(sample), "--format", fmt, "-o", str(out)]) == 0, capsys.readouterr().err
        if fmt == "dot" and shutil.which("dot") is not None:
            run = subprocess.run(["dot", "-Tsvg", str(out)], capture_output=True, text=True, timeout=60, check=False)
            assert run.returncode == 0 and run.stderr == "", run.stderr


@pytest.mark.usefixtures("real")
def test_docs_example_is_current(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """docs/cli.md shows real output: regenerate its example when the graph changes."""
    docs = (Path(__file__).parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    example = docs[docs.index("### Example"):]

    def block(lang: str) -> str:
        start = example.index(f"```{lang}\n") + len(lang) + 4
        return example[start : example.index("```", start)]

    path = write(tmp_path, "demo.yaml", block("yaml"))
    for fmt in ("mermaid", "dot"):
        assert main(["graph", path, "--format", fmt]) == 0
        assert capsys.readouterr().out == block(fmt), f"the {fmt} example in docs/cli.md is out of date"
