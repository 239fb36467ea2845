"""The documented mapping of a Task's ``Resource`` to what runs it (docs/asl.md, "Task
``Resource`` mapping"): a registered activity, the built-in ``http`` activity, or another state
machine as a child workflow. A ``.waitForTaskToken`` suffix is removed by the compiler first
(:data:`CALLBACK_SUFFIX`); the rest maps as without it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["CALLBACK_SUFFIX", "ResourceTarget", "name_from_arn", "resource_target"]


@dataclass(frozen=True)
class ResourceTarget:
    """What a Task's ``Resource`` runs: an activity (``kind="activity"``) or another state
    machine as a child workflow (``kind="child"``). ``shape`` names how AWS shapes that
    integration's result (``http``, ``lambda``, ``sfn``, ``sfn.sync``, ``sfn.sync2``), if at all."""

    kind: str
    name: str
    shape: str | None = None
    #: Where the activity/child name comes from when it is a parameter (``FunctionName``,
    #: ``StateMachineArn``); ``name`` is then empty until the parameters are read.
    name_parameter: str | None = None
    #: The parameter holding the payload to send (``Payload``, ``Input``); None: all of them.
    payload_parameter: str | None = None


_LAMBDA_ARN = re.compile(r"\Aarn:aws[\w-]*:lambda:[^:]*:[^:]*:function:([^:]+)(?::[^:]+)?\Z")
_ACTIVITY_ARN = re.compile(r"\Aarn:aws[\w-]*:states:[^:]*:[^:]*:activity:(.+)\Z")
_START_EXECUTION = re.compile(r"\Aarn:aws[\w-]*:states:::states:startExecution(\.sync(:2)?)?\Z")
_LAMBDA_INVOKE = re.compile(r"\Aarn:aws[\w-]*:states:::lambda:invoke\Z")
#: The Resource suffix of a Task that waits for a callback with its task token.
CALLBACK_SUFFIX = ".waitForTaskToken"
_HTTP_INVOKE = re.compile(r"\Aarn:aws[\w-]*:states:::http:invoke\Z")


def resource_target(resource: str) -> ResourceTarget:
    """The documented mapping of a Task ``Resource`` (docs/asl.md)."""
    if match := _LAMBDA_ARN.match(resource):
        return ResourceTarget("activity", match.group(1))
    if match := _ACTIVITY_ARN.match(resource):
        return ResourceTarget("activity", match.group(1))
    if _HTTP_INVOKE.match(resource):
        return ResourceTarget("activity", "http", shape="http")
    if _LAMBDA_INVOKE.match(resource):
        return ResourceTarget("activity", "", shape="lambda", name_parameter="FunctionName", payload_parameter="Payload")
    if match := _START_EXECUTION.match(resource):
        shape = "sfn.sync2" if match.group(2) else "sfn.sync" if match.group(1) else "sfn"
        return ResourceTarget("child", "", shape=shape, name_parameter="StateMachineArn", payload_parameter="Input")
    if not resource.startswith("arn:"):
        return ResourceTarget("activity", resource)
    return ResourceTarget("activity", resource)


def name_from_arn(value: str) -> str:
    """``arn:...:function:NAME[:alias]`` / ``arn:...:stateMachine:NAME`` → NAME; else the text."""
    if match := _LAMBDA_ARN.match(value):
        return match.group(1)
    parts = value.split(":")
    if value.startswith("arn:") and len(parts) >= 7:
        return parts[6]
    return value
