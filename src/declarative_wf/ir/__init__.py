"""The intermediate graph (IR) every format compiles into; see :mod:`.model`."""

from .model import (
    IR_VERSION, Block, CatchRule, ChildNode, CompensateNode, ChoiceCase, ChoiceNode, ErrorMatch, EventNode, Expr,
    FailNode, ForEachNode, LoopNode, Merge, Node, ParallelNode, ResultNode, RetryRule, SetNode,
    SourceRef, SucceedNode, TaskNode, TryNode, WaitNode, Workflow,
)
from .serialize import IRFormatError, content_hash, workflow_from_json, workflow_to_json

__all__ = [
    "IR_VERSION", "Block", "CatchRule", "ChildNode", "CompensateNode", "ChoiceCase", "ChoiceNode", "ErrorMatch",
    "EventNode", "Expr", "FailNode", "ForEachNode", "IRFormatError", "LoopNode", "Merge", "Node",
    "ParallelNode", "ResultNode", "RetryRule", "SetNode", "SourceRef", "SucceedNode", "TaskNode",
    "TryNode", "WaitNode", "Workflow", "content_hash", "workflow_from_json", "workflow_to_json",
]
