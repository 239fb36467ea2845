"""docs/dsl.md lists every diagnostic code, and every code is produced by a test."""

from __future__ import annotations

import re
from pathlib import Path

from declarative_wf.formats import FORMAT_CODES
from declarative_wf.formats.dsl import DSL_CODES

from .test_diagnostics import CASES

DOC = (Path(__file__).resolve().parents[3] / "docs" / "dsl.md").read_text()


def test_every_code_is_documented_with_its_meaning() -> None:
    table = dict(re.findall(r"^\| ((?:DSL|FMT)-[EW]\d{3}) \| (.+?) \|$", DOC, re.MULTILINE))
    expected = {**FORMAT_CODES, **DSL_CODES}
    assert set(table) == set(expected)
    for code, meaning in expected.items():
        assert table[code].startswith(meaning), code


def test_every_dsl_code_is_produced_by_a_test() -> None:
    assert {case[0] for case in CASES} | {"DSL-E041", "DSL-E042"} == set(DSL_CODES)


def test_codes_are_well_formed() -> None:
    for code in [*DSL_CODES, *FORMAT_CODES]:
        assert re.fullmatch(r"(DSL|FMT)-[EW]\d{3}", code)
