"""IR workflow → :class:`~.model.Drawing`: the real control flow, as the interpreter runs it.

Every block is drawn in definition order. An edge whose target lies in a block that is not
fully drawn yet (a forward jump, "the end of this block", "the node after this compound") is
recorded as a :class:`To` and resolved once everything is drawn; that keeps the traversal a
single pass while still allowing jumps anywhere in a block.

What ends where mirrors ``interpreter/blocks.py``: a node without ``next`` ends its block; the
end of a sub-block leads to the join (parallel, for-each), the loop check, or the node after
the compound (try, child, catch handler); a catch rule continues at the node's ``next``
(``then="continue"``), at ``rule.next`` (``"jump"``) or at the end of the block (``"end"``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from declarative_wf.ir import (
    Block,
    ChildNode,
    ChoiceNode,
    CompensateNode,
    EventNode,
    FailNode,
    ForEachNode,
    LoopNode,
    Node,
    ParallelNode,
    ResultNode,
    SetNode,
    SucceedNode,
    TaskNode,
    TryNode,
    WaitNode,
    Workflow,
)  # fmt: skip

from .model import (
    Cluster,
    ClusterKind,
    Drawing,
    DrawnNode,
    Edge,
    EdgeStyle,
    Shape,
    duration,
    expr_text,
    match_text,
    one_line,
    retry_text,
    seconds_text,
)  # fmt: skip

__all__ = ["build_drawing"]


@dataclass(frozen=True)
class To:
    """A place in a block, resolved after drawing: node ``node`` of scope ``scope``, or the
    end of that block (``node=None``)."""

    scope: int
    node: str | None


#: A drawn node id, a place still to resolve, or nowhere (the edge is dropped).
Target = str | To | None

#: The contents of the drawing or of one cluster, in drawing order.
Items = list[DrawnNode | Cluster]


@dataclass
class _Scope:
    """One drawn block: where each of its nodes is entered and where its end leads."""

    exit: Target
    #: Where a node that ends the whole workflow goes (a child graph ends at its caller).
    workflow_end: Target
    entries: dict[str, Target] = field(default_factory=dict)


_SLUG = re.compile(r"[^A-Za-z0-9_]+")


def _slug(text: str) -> str:
    # Ids stay plain ASCII so no writer has to quote them; the label carries the real name.
    return _SLUG.sub("_", text).strip("_")[:32]


class _Builder:
    def __init__(self, workflow: Workflow) -> None:
        title = workflow.name + (f" (version {workflow.version})" if workflow.version else "")
        # The title goes into a YAML front matter line and a graph attribute: keep it one line.
        self.drawing = Drawing(one_line(title))
        self.scopes: list[_Scope] = []
        self.pending: list[tuple[str, Target, str | None, EdgeStyle]] = []
        self.counter = 0
        self.missing: dict[str, str] = {}

    # ------------------------------------------------------------------ primitives

    def new_id(self, prefix: str, hint: str = "") -> str:
        self.counter += 1
        slug = _slug(hint)
        return f"{prefix}{self.counter}_{slug}" if slug else f"{prefix}{self.counter}"

    def add(self, into: Items, hint: str, lines: list[str], shape: Shape) -> str:
        node_id = self.new_id("n", hint)
        # Compilers often label a step by what it does ("call charge"): say it only once.
        kept = [line for number, line in enumerate(lines) if line and (number == 0 or line != lines[0])]
        into.append(DrawnNode(node_id, "\n".join(kept), shape))
        return node_id

    def cluster(self, into: Items, label: str, kind: ClusterKind) -> Cluster:
        cluster = Cluster(self.new_id("c"), label, kind)
        into.append(cluster)
        return cluster

    def edge(self, source: str, target: Target, label: str | None = None, style: EdgeStyle = "flow") -> None:
        self.pending.append((source, target, label, style))

    # ------------------------------------------------------------------ blocks

    def block(self, block: Block, into: Items, exit: Target, workflow_end: Target) -> To:
        index = len(self.scopes)
        scope = _Scope(exit, workflow_end)
        self.scopes.append(scope)
        for key, node in block.nodes.items():
            scope.entries[key] = self.draw(node, index, into)
        return To(index, block.start)

    def sub_block(
        self, into: Items, block: Block | None, label: str, kind: ClusterKind,
        origin: str, exit: Target, workflow_end: Target,
        edge_label: str | None = None, edge_style: EdgeStyle = "flow",
    ) -> None:  # fmt: skip
        """Draw ``block`` as a cluster entered from ``origin``; an empty block is an edge."""
        if block is None or not block.nodes:
            self.edge(origin, exit, edge_label, edge_style)
            return
        # The edge into the cluster is recorded before the cluster's own edges, so the text
        # output reads top to bottom.
        self.edge(origin, To(len(self.scopes), block.start), edge_label, edge_style)
        self.block(block, self.cluster(into, label, kind).items, exit, workflow_end)

    # ------------------------------------------------------------------ nodes

    def draw(self, node: Node, scope: int, into: Items) -> Target:
        """Draw one IR node; returns where an edge to it should point."""
        title = node.label or node.id
        after = To(scope, node.next)
        if isinstance(node, LoopNode):
            return self.draw_loop(node, scope, into, title, after)
        if isinstance(node, ChoiceNode):
            return self.draw_choice(node, scope, into, title, after)
        if isinstance(node, ResultNode):
            return self.draw_result(node, scope, into, title, after)
        if isinstance(node, WaitNode):
            if node.until is not None:
                what = f"wait until {expr_text(node.until)}"
            else:
                what = f"wait {seconds_text(node.seconds)}"
            node_id = self.add(into, node.id, [title, what], "wait")
        elif isinstance(node, SetNode):
            what = expr_text(node.value) if node.value is not None else ", ".join(sorted(node.assign))
            node_id = self.add(into, node.id, [title, f"set {what}".rstrip()], "set")
        elif isinstance(node, CompensateNode):
            node_id = self.add(into, node.id, [title, "compensate (undo completed steps)"], "compensate")
        elif isinstance(node, FailNode):
            lines = [title, f"fail {expr_text(node.error)}", expr_text(node.message, 40)]
            if node.status is not None:
                lines.append(f"status {node.status}")
            # It raises: no outgoing edge (the catch edges of an enclosing node show where to).
            return self.add(into, node.id, lines, "fail")
        elif isinstance(node, SucceedNode):
            node_id = self.add(into, node.id, [title, "succeed"], "succeed")
            ends = self.scopes[scope].workflow_end if node.scope == "workflow" else To(scope, None)
            self.edge(node_id, ends)
            return node_id
        else:  # a node kind this renderer does not know yet: still show it in sequence
            node_id = self.add(into, node.id, [title, node.kind], "task")
        self.edge(node_id, after)
        return node_id

    def draw_choice(self, node: ChoiceNode, scope: int, into: Items, title: str, after: To) -> Target:
        node_id = self.add(into, node.id, [title], "decision")
        for case in node.cases:
            self.edge(node_id, To(scope, case.next), expr_text(case.condition))
        if node.no_default_is_error:
            # Falling through every case raises (ASL States.NoChoiceMatched): show it.
            fail = self.add(into, node.id + "_nomatch", ["NoChoiceMatched"], "fail")
            self.edge(node_id, fail, "no match")
        else:
            self.edge(node_id, after, "else")
        return node_id

    def draw_loop(self, node: LoopNode, scope: int, into: Items, title: str, after: To) -> Target:
        every = f"every {seconds_text(node.every_seconds)}" if node.every_seconds is not None else "again"
        lines = []
        if node.until is not None:
            lines.append(f"until {expr_text(node.until)}")
        if node.max_rounds is not None:
            lines.append(f"at most {node.max_rounds} rounds")
        if node.timeout_seconds is not None:
            lines.append(f"timeout {seconds_text(node.timeout_seconds)} → {node.timeout_error}")
        lines.extend(retry_text(rule) for rule in node.retry)
        cluster = self.cluster(into, f"{title} ({every if node.every_seconds is not None else 'repeat'})", "loop")
        check = self.new_id("n", node.id + "_check")
        body = node.body if node.body is not None and node.body.nodes else None
        entry: Target = check
        if body is not None:
            entry = self.block(body, cluster.items, check, self.scopes[scope].workflow_end)
        cluster.items.append(DrawnNode(check, "\n".join(lines or ["repeat"]), "decision"))
        # The back edge: one more round after the wait.
        self.edge(check, entry, every)
        if node.until is not None or node.max_rounds is not None:
            self.edge(check, after, "done")
        # Failures of any round (and the timeout) leave through the catch edges of the check.
        self.draw_handlers(node, scope, into, check, title, after)
        return entry

    def draw_result(self, node: ResultNode, scope: int, into: Items, title: str, after: To) -> Target:
        notes = [retry_text(rule) for rule in node.retry]
        if node.timeout_seconds is not None:
            notes.append(f"timeout {seconds_text(node.timeout_seconds)}")
        workflow_end = self.scopes[scope].workflow_end
        if isinstance(node, TaskNode):
            # A step named after its activity reads "call charge", not "charge / call charge".
            head = [f"call {node.activity}"] if node.activity == title else [title, f"call {node.activity}"]
            polling = "poll until done" if node.poll_async else ""
            node_id = self.add(into, node.id, [*head, polling, *notes], "task")
            self.edge(node_id, after)
        elif isinstance(node, EventNode):
            lines = [title, f"wait for event {node.event}"]
            if node.correlate is not None:
                lines.append(f"where {expr_text(node.correlate, 40)}")
            node_id = self.add(into, node.id, [*lines, *notes], "event")
            self.edge(node_id, after)
        elif isinstance(node, ChildNode):
            node_id = self.add(into, node.id, [title, f"child workflow {node.workflow}", *notes], "child")
            # A resolved child graph ends where the parent goes on, whichever way it ends.
            graph = node.definition.body if node.definition is not None else node.graph
            self.sub_block(into, graph, f"workflow {node.workflow}", "child", node_id, after, after)
        elif isinstance(node, ParallelNode):
            mode = "parallel: first wins" if node.mode == "any" else "parallel"
            node_id = self.add(into, node.id, [title, mode, *notes], "fork")
            join = self.new_id("n", node.id + "_join")
            for number, branch in enumerate(node.branches, 1):
                self.sub_block(into, branch, f"branch {number}", "branch", node_id, join, workflow_end)
            if not node.branches:
                self.edge(node_id, join)
            into.append(DrawnNode(join, "first wins" if node.mode == "any" else "join all", "join"))
            self.edge(join, after)
        elif isinstance(node, ForEachNode):
            node_id = self.add(into, node.id, [title, *notes], "fork")
            join = self.new_id("n", node.id + "_join")
            label = self.foreach_label(node)
            self.sub_block(into, node.body, label, "foreach", node_id, join, workflow_end, "each item")
            into.append(DrawnNode(join, "collect results", "join"))
            self.edge(join, after)
        elif isinstance(node, TryNode):
            node_id = self.add(into, node.id, [title, "try", *notes], "try")
            self.sub_block(into, node.body, f"try {title}", "try", node_id, after, workflow_end)
        else:
            node_id = self.add(into, node.id, [title, node.kind, *notes], "task")
            self.edge(node_id, after)
        self.draw_handlers(node, scope, into, node_id, title, after)
        return node_id

    @staticmethod
    def foreach_label(node: ForEachNode) -> str:
        label = f"for each {node.item_var} in {expr_text(node.items)}"
        if node.max_concurrency is not None:
            label += f" (max {node.max_concurrency} at a time)"
        if node.tolerated_failure_count is not None:
            label += f" (tolerate {node.tolerated_failure_count} failures)"
        if node.tolerated_failure_percent is not None:
            label += f" (tolerate {node.tolerated_failure_percent:g}% failures)"
        return label

    def draw_handlers(
        self, node: ResultNode, scope: int, into: Items, origin: str, title: str, after: To
    ) -> None:
        for rule in node.catch:
            then: Target = after
            if rule.then == "jump":
                then = To(scope, rule.next)
            elif rule.then == "end":
                then = To(scope, None)
            label = match_text(rule.match)
            workflow_end = self.scopes[scope].workflow_end
            self.sub_block(into, rule.handler, f"on {label}", "handler", origin, then, workflow_end, label, "error")
        if node.compensation is not None and node.compensation.nodes:
            # Undo steps run only from a compensate node; their end returns there, so no edge.
            self.sub_block(into, node.compensation, f"undo {title}", "compensation", origin, None, None,
                           "compensation", "compensation")  # fmt: skip

    # ------------------------------------------------------------------ resolution

    def resolve(self, target: Target) -> str | None:
        seen: set[tuple[int, str | None]] = set()
        while isinstance(target, To):
            key = (target.scope, target.node)
            if key in seen:  # cannot happen for a well-formed graph; never loop forever
                return None
            seen.add(key)
            scope, name = self.scopes[target.scope], target.node
            if name is None:
                target = scope.exit
            elif name in scope.entries:
                target = scope.entries[name]
            else:
                target = self.missing_node(name)
        return target

    def missing_node(self, name: str) -> str:
        """A jump to a node that does not exist (an unvalidated graph): drawn, not hidden."""
        if name not in self.missing:
            node_id = self.new_id("m", name)
            self.drawing.items.append(DrawnNode(node_id, f"missing node {name}", "missing"))
            self.missing[name] = node_id
        return self.missing[name]

    def build(self, workflow: Workflow) -> Drawing:
        items = self.drawing.items
        start, end = "wf_start", "wf_end"
        limit = f"\ntimeout {duration(workflow.timeout_seconds)}" if workflow.timeout_seconds is not None else ""
        items.append(DrawnNode(start, "start" + limit, "start"))
        self.edge(start, To(0, workflow.body.start))
        self.block(workflow.body, items, end, end)
        items.append(DrawnNode(end, "end", "end"))
        for source, target, label, style in self.pending:
            resolved = self.resolve(target)
            if resolved is not None:
                self.drawing.edges.append(Edge(source, resolved, label, style))
        return self.drawing


def build_drawing(workflow: Workflow) -> Drawing:
    """The control-flow drawing of ``workflow``; the same workflow gives the same drawing."""
    return _Builder(workflow).build(workflow)
