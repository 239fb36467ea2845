"""`dwf validate`: exit codes, the FILE:LINE:COL: CODE line form, JSON, terminal niceties."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from declarative_wf.cli import main

from .formats_stub import formats, real  # noqa: F401 - fixtures

LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z0-9]+-[EW]\d+) (?P<message>.+)$")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def write(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def problems(out: str) -> list[dict[str, str]]:
    lines = out.splitlines()
    matches = [LINE.match(line) for line in lines]
    assert all(matches), f"every line is FILE:LINE:COL: CODE message: {lines}"
    return [m.groupdict() for m in matches if m]


VALID = "name: fine\n"
TWO_ERRORS = """\
name: broken
steps:
  - call: a
errors:
  - {code: DSL-E002, message: second, at: /steps/0/call}
  - {code: DSL-E001, message: first, at: /name}
"""


def test_valid_files_print_nothing_and_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = write(tmp_path, "a.yaml", VALID), write(tmp_path, "b.yaml", VALID)
    assert main(["validate", a, b]) == 0
    assert capsys.readouterr().out == ""


def test_one_line_per_problem_sorted_by_position(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "wf.yaml", TWO_ERRORS)
    assert main(["validate", path]) == 1
    found = problems(capsys.readouterr().out)
    assert [(p["file"], p["line"], p["col"], p["code"], p["message"]) for p in found] == [
        (path, "1", "7", "DSL-E001", "first"),
        (path, "3", "11", "DSL-E002", "second"),
    ]


@pytest.mark.parametrize(
    ("content", "code", "line", "col"),
    [
        ("name: [unclosed\n", "LOAD-E007", 2, 1),
        ("a: 1\n\tb: 2\n", "LOAD-E008", 2, 1),
        ("", "LOAD-E006", 1, 1),
        ("# only a comment\n", "LOAD-E006", 1, 1),
        ("a: 1\na: 2\n", "LOAD-E012", 2, 1),
        ("- just\n- a list\n", "LOAD-E011", 1, 1),
    ],
)  # fmt: skip
def test_load_errors_have_positions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, code: str, line: int, col: int
) -> None:
    path = write(tmp_path, "wf.yaml", content)
    assert main(["validate", path]) == 1
    found = problems(capsys.readouterr().out)
    assert (found[0]["code"], int(found[0]["line"]), int(found[0]["col"])) == (code, line, col)


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [("missing.yaml", None, "LOAD-E001"), ("binary.yaml", b"\x7fELF\x00\x01", "LOAD-E003"),
     ("utf16.yaml", "name: x\n".encode("utf-16"), "LOAD-E004")],
)  # fmt: skip
def test_unreadable_files_are_a_problem_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes | None, code: str
) -> None:
    path = str(tmp_path / name) if content is None else write(tmp_path, name, content)
    assert main(["validate", path]) == 1
    out, err = capsys.readouterr()
    assert out.startswith(f"{path}: {code} ") and out.count("\n") == 1
    assert "Traceback" not in out + err


def test_a_directory_is_a_problem_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path)]) == 1
    assert capsys.readouterr().out.startswith(f"{tmp_path}: LOAD-E001 ")


def test_warnings_print_but_do_not_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "wf.yaml", "name: x\nwarnings: [{code: DSL-W001, message: think again, at: /name}]\n")
    assert main(["validate", path]) == 0
    assert capsys.readouterr().out == f"{path}:1:7: DSL-W001 think again\n"


def test_mixed_files_fail_and_keep_argument_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, "z_good.yaml", VALID)
    bad = write(tmp_path, "b_bad.yaml", TWO_ERRORS)
    missing = str(tmp_path / "a_missing.yaml")
    assert main(["validate", good, bad, missing]) == 1
    files = [p["file"] for p in problems(re.sub(r"(?m)^(.+?): (LOAD-E001)", r"\1:0:0: \2", capsys.readouterr().out))]
    assert files == [bad, bad, missing]


def test_diagnostic_without_position_or_file_gets_the_file_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "wf.yaml", "errors: [{code: DSL-E009, message: no place, no_file: true}]\n")
    assert main(["validate", path]) == 1
    assert capsys.readouterr().out == f"{path}: DSL-E009 no place\n"


def test_a_crashing_validator_is_reported_per_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    crash = write(tmp_path, "crash.yaml", "errors: [{crash: true}]\n")
    good = write(tmp_path, "good.yaml", VALID)
    assert main(["validate", crash, good]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"{crash}: DWF-E000 internal error while validating (RuntimeError: the validator fell over)")
    monkeypatch.setenv("DWF_DEBUG", "1")
    with pytest.raises(RuntimeError):
        main(["validate", crash])


def test_json_lists_every_diagnostic_of_every_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write(tmp_path, "bad.yaml", TWO_ERRORS)
    good = write(tmp_path, "good.yaml", VALID)
    missing = str(tmp_path / "missing.yaml")
    assert main(["validate", "-o", "json", bad, good, missing]) == 1
    found = json.loads(capsys.readouterr().out)
    assert isinstance(found, list) and len(found) == 3
    keys = {"file", "line", "column", "code", "message", "pointer", "severity", "hint"}
    assert all(set(item) == keys for item in found)
    by_code = {item["code"]: item for item in found}
    assert by_code["DSL-E001"] | {"hint": None} == {
        "file": bad, "line": 1, "column": 7, "code": "DSL-E001", "message": "first",
        "pointer": "/name", "severity": "error", "hint": None,
    }  # fmt: skip
    assert by_code["LOAD-E001"]["file"] == missing and by_code["LOAD-E001"]["line"] is None


def test_json_of_valid_files_is_an_empty_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--output", "json", write(tmp_path, "a.yaml", VALID)]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_terminal_shows_source_and_caret_and_a_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    out, err = Terminal(), Terminal()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    bad = write(tmp_path, "bad.yaml", TWO_ERRORS)
    good = write(tmp_path, "good.yaml", VALID)
    assert main(["validate", bad, good]) == 1
    assert out.getvalue().splitlines()[:3] == [f"{bad}:1:7: DSL-E001 first", "1 | name: broken", "  |       ^"]
    assert "\x1b[" not in out.getvalue()
    assert err.getvalue() == "2 files, 1 invalid, 2 errors\n"


def test_terminal_colours_unless_no_color(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    out = Terminal()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert main(["validate", write(tmp_path, "bad.yaml", TWO_ERRORS)]) == 1
    assert "\x1b[" in out.getvalue()


def test_summary_counts_warnings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    err = Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    path = write(tmp_path, "w.yaml", "warnings: [{code: DSL-W001, message: hmm}]\n")
    assert main(["validate", path]) == 0
    assert err.getvalue() == "1 file, 0 invalid, 0 errors, 1 warning\n"


def test_no_summary_or_excerpt_when_piped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "bad.yaml", TWO_ERRORS)
    assert main(["validate", path]) == 1
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 2 and err == ""


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["validate"], ["validate", "-o", "yaml", "x.yaml"]):
        with pytest.raises(SystemExit) as exit:
            main(argv)
        assert exit.value.code == 2
    assert "usage: dwf validate" in capsys.readouterr().err


def test_without_the_formats_package_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setitem(sys.modules, "declarative_wf.formats", None)  # makes the import fail
    assert main(["validate", write(tmp_path, "a.yaml", VALID)]) == 2
    assert "definition formats are not available" in capsys.readouterr().err


# --------------------------------------------------------------------------- the real DSL

DEMO = """\
dwf: 1
name: demo
steps:
  - call: validate_order
  - id: charge
    call: charge
    with: { amount: "${ result.total }" }
    retry: { attempts: 3, delay: 1s }
    catch:
      - on: [CardDeclined]
        steps: [ { call: notify } ]
  - switch:
      - if: "${ result.total > `100` }"
        goto: charge
      - else: done
  - id: done
    succeed: "${ result }"
"""

#: (name, text, line of the problem): each breaks the demo in one place.
BROKEN = [
    ("unknown_goto", DEMO.replace("goto: charge", "goto: chrage"), 14),
    ("bad_expression", DEMO.replace("result.total > `100`", "result.total >"), 13),
    ("wrong_type", DEMO.replace("attempts: 3", "attempts: three"), 8),
    ("yaml_syntax", DEMO.replace("with: { amount", "with: { amount: [,"), 7),
]


@pytest.mark.usefixtures("real")
def test_real_demo_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", write(tmp_path, "demo.yaml", DEMO)]) == 0, capsys.readouterr().out


@pytest.mark.usefixtures("real")
@pytest.mark.parametrize(("name", "text", "line"), BROKEN, ids=[b[0] for b in BROKEN])
def test_real_broken_definitions(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 name: str, text: str, line: int) -> None:  # fmt: skip
    path = write(tmp_path, f"{name}.yaml", text)
    assert main(["validate", path]) == 1
    found = problems(capsys.readouterr().out)
    assert found and all(p["file"] == path for p in found)
    assert line in {int(p["line"]) for p in found}, found
    source_line = text.splitlines()[line - 1]
    for p in found:
        if int(p["line"]) == line:
            assert 1 <= int(p["col"]) <= len(source_line) + 1


@pytest.mark.usefixtures("real")
@pytest.mark.parametrize(("content", "code"), [("", "LOAD-E006"), (b"\x00\x01\x02", "LOAD-E003")])
def test_real_empty_and_binary_files(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     content: str | bytes, code: str) -> None:  # fmt: skip
    path = write(tmp_path, "x.yaml", content)
    assert main(["validate", path]) == 1
    assert f" {code} " in capsys.readouterr().out


@pytest.mark.usefixtures("real")
def test_a_closed_pipe_is_not_a_traceback(tmp_path: Path) -> None:
    """`dwf validate *.yaml | head -1`: the reader leaves early; the status still counts."""
    paths = [write(tmp_path, f"empty{n}.yaml", "") for n in range(3)]
    process = subprocess.Popen([sys.executable, "-m", "declarative_wf.cli", "validate", *paths],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before the command can write anything
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == 1
    assert "Traceback" not in err and "BrokenPipe" not in err
