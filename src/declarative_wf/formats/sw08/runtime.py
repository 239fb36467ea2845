"""What running a Serverless Workflow 0.8 graph needs beyond the generic interpreter.

0.8 *merges* action results and event payloads into the state data (deep merge, at
``toStateData``). The compiled nodes discard their result from the IR's own merge and do the
0.8 merge in their ``output`` jq expression, which must see the node's selected result next to
the data: this profile hands it to jq as ``$__selected``. For-each items see the state data as
``$__state`` (their input is the state data plus the iteration parameter). Failed HTTP calls
(Problem Details) are renamed after their status, which error definitions match by ``code``.

Registered as the interpreter's format profile for ``"sw08"`` (imported on first use).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from declarative_wf.activities.problems import parse_problem
from declarative_wf.interpreter.commands import WorkflowError
from declarative_wf.interpreter.profiles import FormatProfile, register_profile
from declarative_wf.interpreter.runtime import RunContext
from declarative_wf.ir import Node

__all__ = ["Sw08Profile"]


class Sw08Profile(FormatProfile):
    def context(
        self,
        rt: RunContext,
        node: Node | None,
        variables: Mapping[str, Any],
        step: Mapping[str, Any],
    ) -> Mapping[str, Any]:
        if "selected" in step:
            return {**rt.context, "__selected": step["selected"]}
        if "item" in step:
            return {**rt.context, "__state": step.get("effective")}
        return rt.context

    def translate(
        self, rt: RunContext, node: Node | None, error: WorkflowError
    ) -> WorkflowError:
        """A failed HTTP call (``rest`` functions) arrives as a Problem Details object; 0.8
        errors are matched by name or ``code``, so its type becomes the HTTP status ("404")."""
        if error.type == "ProblemError":
            problem = parse_problem(error.message)
            if problem is not None:
                error.type = str(problem["status"])
                error.status = problem["status"]
                error.message = str(
                    problem.get("detail") or problem.get("title") or problem["type"]
                )
                error.cause = problem
        return error


register_profile("sw08", Sw08Profile())
