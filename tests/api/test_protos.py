"""The committed protobuf modules of the definitions service match definitions.proto."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("grpc_tools")

SRC = Path(__file__).resolve().parents[2] / "src"
PROTO = "declarative_wf/api/protos/definitions.proto"
GENERATED = SRC / "declarative_wf" / "api" / "protos"


def _descriptor(text: str) -> str:
    found = re.search(r"AddSerializedFile\((b'.*?')\)", text, re.DOTALL)
    assert found is not None
    return found.group(1)


def _methods(text: str) -> list[str]:
    return sorted(set(re.findall(r"'/declarative_wf\.api\.v1\.Definitions/(\w+)'", text)))


def test_generated_modules_match_the_proto(tmp_path: Path) -> None:
    # Compared by content, not bytes: another grpcio-tools version writes other version lines.
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", f"-I{SRC}", f"--python_out={tmp_path}", f"--grpc_python_out={tmp_path}", str(SRC / PROTO)],
        check=True,
    )
    fresh = tmp_path / "declarative_wf" / "api" / "protos"
    assert _descriptor((fresh / "definitions_pb2.py").read_text()) == _descriptor((GENERATED / "definitions_pb2.py").read_text()), (
        "definitions_pb2.py is out of date: regenerate it (see definitions.proto)"
    )
    fresh_methods = _methods((fresh / "definitions_pb2_grpc.py").read_text())
    assert fresh_methods == _methods((GENERATED / "definitions_pb2_grpc.py").read_text()) == ["Delete", "Get", "List", "Submit", "Validate"]
    assert (GENERATED / "definitions_pb2.pyi").is_file()
