"""docs/sw08.md: its quick start runs as written, and every diagnostic code is documented."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from declarative_wf import run
from declarative_wf.formats.sw08 import SW08_CODES

DOC = (Path(__file__).resolve().parents[3] / "docs" / "sw08.md").read_text(
    encoding="utf-8"
)


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC, re.DOTALL)


def test_every_code_is_documented_with_its_meaning() -> None:
    table = dict(re.findall(r"^\| (SW08-[EW]\d{3}) \| (.+?) \|$", DOC, re.MULTILINE))
    assert set(table) == set(SW08_CODES)


@pytest.mark.integration
def test_quick_start_runs_as_documented(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    definition, activities = _blocks("yaml")[0], _blocks("python")[1]
    (tmp_path / "order.sw.yaml").write_text(definition, encoding="utf-8")
    (tmp_path / "shop.py").write_text(activities, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    items = [{"sku": "pen", "price": 2}, {"sku": "ink", "price": 5}]
    done = run(
        tmp_path / "order.sw.yaml",
        {"items": items},
        activities=[str(tmp_path / "shop.py")],
        timeout=60,
    )
    assert (done.status, done.output) == (
        "COMPLETED",
        {
            "items": items,
            "reservation": {"id": "R-1", "count": 2},
            "total": 7,
            "status": "reserved",
        },
    ), done
    sorry = run(
        tmp_path / "order.sw.yaml",
        {"items": [{"sku": "unicorn", "price": 1}]},
        activities=[str(tmp_path / "shop.py")],
        timeout=60,
    )
    assert (sorry.status, sorry.output) == (
        "COMPLETED",
        {"items": [{"sku": "unicorn", "price": 1}], "status": "out of stock"},
    ), sorry
    sys.modules.pop("shop", None)
