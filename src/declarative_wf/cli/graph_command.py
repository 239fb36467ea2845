"""``dwf graph FILE``: the workflow's control flow as Mermaid or Graphviz DOT text.

Exit status: 0 written, 1 the output file cannot be written, 2 invalid definition or usage
(design §7). Diagnostics go to stderr so that stdout holds only the graph.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from declarative_wf.diagnostics import DiagnosticError
from declarative_wf.graph import FORMATS, render

from .validate_command import print_diagnostics, write_text

__all__ = ["register", "run"]


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "graph",
        help="print a workflow's control flow as a Mermaid or Graphviz DOT graph",
        description=(
            "Compile FILE and print its control flow: start and end, every step, branches "
            "with their conditions, loops, parallel branches, for-each bodies, catch paths "
            "and compensation. Exit status: 0 ok, 1 cannot write the output, 2 invalid "
            "definition or usage."
        ),
    )
    parser.add_argument("file", metavar="FILE", help="a definition file (YAML or JSON)")
    parser.add_argument(
        "--format", choices=FORMATS, default=FORMATS[0],
        help="mermaid (default): a flowchart for Markdown; dot: for Graphviz (dot -Tsvg)",
    )  # fmt: skip
    parser.add_argument("-o", "--output", metavar="OUT", help="write the graph to OUT instead of stdout")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        from declarative_wf.formats import load_definition
    except ImportError as error:  # the formats package is missing from this installation
        print(f"dwf graph: definition formats are not available: {error}", file=sys.stderr)
        return 2
    try:
        compiled = load_definition(args.file)
    except DiagnosticError as error:
        print_diagnostics(error.diagnostics, sys.stderr)
        return 2
    print_diagnostics(list(getattr(compiled.document, "warnings", ())), sys.stderr)
    text = render(compiled.workflow, args.format)
    if args.output is None:
        write_text(sys.stdout, text)
        return 0
    try:
        with open(args.output, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except OSError as error:
        print(f"dwf graph: cannot write {args.output}: {error.strerror or error}", file=sys.stderr)
        return 1
    return 0
