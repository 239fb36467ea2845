"""The rules of Serverless Workflow 1.x that its JSON Schema cannot express.

Flow directives name a task of the same list; a task list has no two tasks of one name; a switch
has at most one default case; names used by ``call``, ``raise.error``, ``catch.retry``,
``timeout``, ``authentication.use`` and secret-based authentication are declared under ``use``;
``$secrets.x`` names a declared secret; every runtime expression is valid jq; ISO 8601
durations parse; ``run.workflow`` names a workflow. Every check reads the document defensively:
a value of the wrong type is the schema's to report, and is skipped here.

Which strings are runtime expressions (research §3.6): fields whose type is "runtime
expression" (``if``, ``when``, ``exceptWhen``, ``while``, ``for.in``, ``input.from``,
``output.as``, ``export.as``, ``until``, ``correlate.*.from``, a ``set`` string, ``filter``) are
jq with or without ``${ }``; anywhere else (free-form data such as ``set``, ``with``, ``body``)
only a string that is wholly ``${ ... }`` is an expression.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import isodate

from declarative_wf.diagnostics import SourcePosition, quote, suggest
from declarative_wf.expressions.jq_eval import check_jq
from declarative_wf.loading import pointer_join

from .sw1_schema import CALL_KINDS
from .validate import Report
from .walk import TaskList, task_lists

__all__ = ["DIRECTIVES", "TOP_LEVEL_KEYS", "expression_program", "semantic_checks"]

DIRECTIVES = ("continue", "exit", "end")
TOP_LEVEL_KEYS = ("document", "input", "use", "do", "timeout", "output", "schedule", "evaluate")
AUTH_SCHEMES = ("basic", "bearer", "digest", "oauth2", "oidc")

_LABEL = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
_WHOLE_EXPRESSION = re.compile(r"^\s*\$\{(.+)\}\s*$", re.DOTALL)
_SECRET = re.compile(r"\$secrets\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*\"((?:[^\"\\]|\\.)*)\"\s*\])")
_DURATION_PART = re.compile(r"(\d+(?:[.,]\d+)?)[YMWDHS]")

#: Keys whose string value is a runtime expression, with or without ${ } (by the parent key;
#: None: whatever the parent is).
_EXPRESSION_KEYS: dict[str, tuple[str, ...] | None] = {
    "if": None, "when": None, "exceptWhen": None, "while": None, "until": None, "filter": None,
    "in": ("for",), "from": None, "as": ("output", "export"),
}  # fmt: skip
#: Keys whose value is free-form data: inside, only wholly ${ } strings are expressions.
_FREE_FORM = frozenset({
    "set", "body", "headers", "query", "parameters", "arguments", "environment", "data", "payload",
    "variables", "event", "options", "input", "expect", "ports", "volumes",
})  # fmt: skip
#: Keys whose value holds no expressions at all (a JSON Schema, labels, names).
_OPAQUE = frozenset({"metadata", "tags", "schema", "secrets", "extend"})
#: Keys whose string value is a duration.
_DURATION_KEYS = frozenset({"wait", "after", "every", "delay", "duration", "from", "to", "for"})


def expression_program(text: str) -> str:
    """The jq program of a runtime expression: the inside of ``${ }``, or the text itself."""
    match = _WHOLE_EXPRESSION.match(text)
    return match.group(1) if match else text


class _Checker:
    def __init__(self, report: Report, data: Mapping[str, Any], *, check_expressions: bool) -> None:
        self.report = report
        self.data = data
        found_use = data.get("use")
        use: Mapping[str, Any] = found_use if isinstance(found_use, dict) else {}
        self.use = use

        def names(section: str) -> list[str]:
            found = use.get(section)
            if section == "secrets":
                return [str(item) for item in found] if isinstance(found, list) else []
            return [str(key) for key in found] if isinstance(found, dict) else []

        self.functions, self.errors, self.retries = names("functions"), names("errors"), names("retries")
        self.timeouts, self.authentications, self.secrets = names("timeouts"), names("authentications"), names("secrets")
        self.catalogs = names("catalogs")
        self.check_expressions = check_expressions

    def declared(self, code: str, kind: str, name: str, known: list[str], section: str, pointer: str) -> None:
        if name in known:
            return
        hint = suggest(name, known) or (f"declare it under use.{section}" if not known else f"declared: {', '.join(known)}")
        self.report.error(code, f"{kind} {quote(name)} is not declared in use.{section}", pointer, hint=hint)

    # -- task lists --------------------------------------------------------------------------

    def task_list(self, task_list: TaskList) -> None:
        names = [task.name for task in task_list.tasks]
        seen: set[str] = set()
        for task in task_list.tasks:
            if task.name in seen and task_list.is_list:
                self.report.error("SW-E011", f"a task named {quote(task.name)} is already in this task list", task.pointer, key=True,
                                  hint="task names are unique within a list: flow directives and error instances refer to them")  # fmt: skip
            seen.add(task.name)
            body = task.body
            self.then(body.get("then"), pointer_join(task.pointer, "then"), names, task_list.is_list)
            if "switch" in body and isinstance(body["switch"], list):
                self.switch(body["switch"], pointer_join(task.pointer, "switch"), names, task_list.is_list)
            catch = body.get("catch")
            if "try" in body and isinstance(catch, dict):
                here = pointer_join(task.pointer, "catch")
                self.then(catch.get("then"), pointer_join(here, "then"), names, task_list.is_list)
                if isinstance(catch.get("retry"), str):
                    self.declared("SW-E022", "the retry policy", catch["retry"], self.retries, "retries", pointer_join(here, "retry"))
            self.references(body, task.pointer)

    def then(self, target: Any, pointer: str, names: list[str], in_list: bool) -> None:
        if not isinstance(target, str) or target in DIRECTIVES or target in names:
            return
        where = "in the same task list" if in_list else "here (a function has no sibling tasks)"
        hint = suggest(target, [*names, *DIRECTIVES]) or "a flow directive is continue, exit, end or the name of a task of the same list"
        self.report.error("SW-E010", f"then: {quote(target)} is not a task {where}", pointer, hint=hint)

    def switch(self, cases: list[Any], pointer: str, names: list[str], in_list: bool) -> None:
        defaults: list[str] = []
        for index, item in enumerate(cases):
            if not isinstance(item, dict) or len(item) != 1:
                continue
            case_name, case = next(iter(item.items()))
            here = pointer_join(pointer_join(pointer, index), case_name)
            if not isinstance(case, dict):
                continue
            self.then(case.get("then"), pointer_join(here, "then"), names, in_list)
            if "when" not in case:
                defaults.append(here)
        for extra in defaults[1:]:
            self.report.error("SW-E012", "this switch already has a default case (a case without when)", extra, key=True,
                              hint="give this case a when, or remove one of the defaults")  # fmt: skip

    def references(self, body: Mapping[str, Any], pointer: str) -> None:
        target = body.get("call")
        if isinstance(target, str) and target not in CALL_KINDS:
            self.function(target, pointer_join(pointer, "call"))
        raise_ = body.get("raise")
        if isinstance(raise_, dict) and isinstance(raise_.get("error"), str):
            self.declared("SW-E021", "the error", raise_["error"], self.errors, "errors", pointer_join(pointer_join(pointer, "raise"), "error"))
        if isinstance(body.get("timeout"), str):
            self.declared("SW-E024", "the timeout", body["timeout"], self.timeouts, "timeouts", pointer_join(pointer, "timeout"))
        run = body.get("run")
        if isinstance(run, dict) and isinstance(run.get("workflow"), dict):
            self.run_workflow(run["workflow"], pointer_join(pointer_join(pointer, "run"), "workflow"))

    def function(self, target: str, pointer: str) -> None:
        if "://" in target:
            return  # a function definition at a URI
        if "@" in target:
            catalog = target.rsplit("@", 1)[1]
            if ":" not in target.rsplit("@", 1)[0]:
                self.report.error("SW-E020", f"call {quote(target)}: a catalog function is written name:version@catalog", pointer)
            elif catalog != "default" and catalog not in self.catalogs:
                self.declared("SW-E020", "the catalog", catalog, self.catalogs, "catalogs", pointer)
            return
        self.declared("SW-E020", "the function", target, self.functions, "functions", pointer)

    def run_workflow(self, workflow: Mapping[str, Any], pointer: str) -> None:
        for key in ("namespace", "name"):
            value = workflow.get(key)
            if isinstance(value, str) and not _LABEL.match(value):
                self.report.error("SW-E050", f"run.workflow.{key} {quote(value)} cannot name a workflow", pointer_join(pointer, key),
                                  hint="a DNS label: letters, digits and '-', at most 63 characters")  # fmt: skip
        version = workflow.get("version")
        if isinstance(version, str) and version != "latest" and not _SEMVER.match(version):
            self.report.error("SW-E050", f"run.workflow.version {quote(version)} is neither a semantic version nor \"latest\"",
                              pointer_join(pointer, "version"), hint="for example 1.0.0")  # fmt: skip

    # -- the whole document --------------------------------------------------------------------

    def scan(self, value: Any, pointer: str, key: str | None, parent: str | None, free: bool) -> None:
        """Expressions, durations and authentication policies anywhere in the document."""
        if isinstance(value, dict):
            if key == "authentication" and not free:
                self.authentication(value, pointer)
            for child_key, child in value.items():
                name = str(child_key)
                if name in _OPAQUE and not free:
                    continue
                here = pointer_join(pointer, name)
                # `input` is free-form only as run.workflow's input; elsewhere it is {schema, from}.
                child_free = free or (name in _FREE_FORM and (name != "input" or key == "workflow"))
                # The arguments of a custom function are data; a built-in call's `with` is structure.
                child_free = child_free or (name == "with" and isinstance(value.get("call"), str) and value["call"] not in CALL_KINDS)
                self.scan(child, here, name, key, child_free)
        elif isinstance(value, list):
            for index, child in enumerate(value):
                self.scan(child, pointer_join(pointer, index), key, parent, free)
        elif isinstance(value, str):
            self.string(value, pointer, key, parent, free)

    def string(self, value: str, pointer: str, key: str | None, parent: str | None, free: bool) -> None:
        whole = _WHOLE_EXPRESSION.match(value) is not None
        allowed = _EXPRESSION_KEYS.get(key or "", ())
        typed = not free and key in _EXPRESSION_KEYS and (allowed is None or parent in allowed)
        if key == "from" and parent == "jitter":
            typed = False  # retry jitter: a duration
        if key == "set" and not whole:
            typed = True  # `set: .a + 1` — the string form of set is one expression
        if whole or typed:
            self.expression(value, pointer)
        elif not free and key in _DURATION_KEYS and value.startswith("P"):
            self.duration(value, pointer)

    def expression(self, text: str, pointer: str) -> None:
        program = expression_program(text)
        for match in _SECRET.finditer(program):
            name = match.group(1) or match.group(2)
            if name not in self.secrets:
                self.declared("SW-E025", "the secret", name, self.secrets, "secrets", pointer)
        if not self.check_expressions:
            return
        problem = check_jq(program)
        if problem is not None:
            hint = None
            if "${" in program:
                hint = "a runtime expression is one jq program: interpolate with jq's \"\\(.field)\" instead of several ${ }"
            where = _jq_position(self.report, pointer, text, program, problem)
            if where is not None:
                problem = _JQ_PLACE.sub("", problem)  # the position says where
            self.report.add("SW-E030", f"not a valid jq expression: {problem}", pointer, hint=hint, position=where)

    def duration(self, text: str, pointer: str) -> None:
        try:
            isodate.parse_duration(text)
        except (isodate.ISO8601Error, ValueError, TypeError) as error:
            self.report.error("SW-E040", f"{quote(text)} is not an ISO 8601 duration: {error}", pointer, hint="for example PT30S, PT1M30S or P1DT2H")
            return
        parts = _DURATION_PART.findall(text)
        if any(re.search("[.,]", part) for part in parts[:-1]):
            self.report.error("SW-E040", f"{quote(text)}: only the smallest unit of an ISO 8601 duration may have a fraction", pointer,
                              hint="for example PT1H30M instead of PT1.5H30M")  # fmt: skip

    def authentication(self, policy: Mapping[str, Any], pointer: str) -> None:
        if isinstance(policy.get("use"), str):
            self.declared("SW-E023", "the authentication", policy["use"], self.authentications, "authentications",
                          pointer_join(pointer, "use"))  # fmt: skip
            return
        self.secret_based(policy, pointer)

    def secret_based(self, policy: Mapping[str, Any], pointer: str) -> None:
        for scheme in AUTH_SCHEMES:
            settings = policy.get(scheme)
            if isinstance(settings, dict) and isinstance(settings.get("use"), str):
                self.declared("SW-E025", "the secret", settings["use"], self.secrets, "secrets",
                              pointer_join(pointer_join(pointer, scheme), "use"))  # fmt: skip


_JQ_PLACE = re.compile(r" at line (\d+), column (\d+)$")


def _jq_position(report: Report, pointer: str, text: str, program: str, problem: str) -> SourcePosition | None:
    """The place in the file of the character libjq complains about, when the string is written
    on one line without escapes (plain, or quoted with its content verbatim); else None."""
    place = _JQ_PLACE.search(problem)
    start = report.document.position(pointer)
    if place is None or start is None or place.group(1) != "1" or "\n" in text:
        return None
    lines = report.document.source.splitlines()
    if not 0 < start.line <= len(lines):
        return None
    line = lines[start.line - 1]
    content = start.column - 1 + (1 if line[start.column - 1 : start.column] in ("'", '"') else 0)
    if line[content : content + len(text)] != text:
        return None  # escapes or folding: the text is not verbatim in the source
    offset = text.find(program) if program != text else 0
    column = min(int(place.group(2)), len(program) + 1)
    return SourcePosition(start.file, start.line, content + offset + column)


def _check_evaluate(report: Report, evaluate: Any) -> None:
    """``evaluate`` is in 1.0.3's reference but not its schema (whose top level is open), so
    its shape is checked here, as OWS main's schema defines it."""
    if evaluate is None:
        return
    if not isinstance(evaluate, dict):
        report.error("SW-E004", "evaluate must be a mapping such as {language: jq, mode: strict}", "/evaluate")
        return
    for key, value in evaluate.items():
        pointer = pointer_join("/evaluate", key)
        if key == "language" and not isinstance(value, str):
            report.error("SW-E004", "evaluate.language must be a string (jq is the default)", pointer)
        elif key == "mode" and value not in ("strict", "loose"):
            report.error("SW-E004", 'evaluate.mode must be "strict" or "loose"', pointer, hint=suggest(str(value), ("strict", "loose")))
        elif key not in ("language", "mode"):
            report.error("SW-E004", f"unknown field {quote(str(key))} in evaluate", pointer, key=True,
                         hint=suggest(str(key), ("language", "mode")) or "evaluate has language and mode")  # fmt: skip


def _timeouts(data: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    if isinstance(data.get("timeout"), str):
        yield data["timeout"], "/timeout"


def semantic_checks(report: Report, data: Mapping[str, Any], *, ows: bool = True) -> None:
    """Adds the semantic problems of ``data`` (a mapping) to ``report``."""
    evaluate = data.get("evaluate")
    _check_evaluate(report, evaluate)
    language = evaluate.get("language", "jq") if isinstance(evaluate, dict) else "jq"
    check_expressions = language in ("jq", None) or not isinstance(language, str)
    if not check_expressions:
        report.warning("SW-W003", f"expressions in {quote(str(language))} are not checked (only jq is supported)", "/evaluate/language")
    checker = _Checker(report, data, check_expressions=check_expressions)
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            hint = suggest(str(key), TOP_LEVEL_KEYS) or f"the top-level keys are {', '.join(TOP_LEVEL_KEYS)}"
            report.warning("SW-W002", f"{quote(str(key))} is not a Serverless Workflow 1.0 key: it is ignored", pointer_join("", key),
                           key=True, hint=hint)  # fmt: skip
    for name, pointer in _timeouts(data):
        checker.declared("SW-E024", "the timeout", name, checker.timeouts, "timeouts", pointer)
    for task_list in task_lists(data):
        checker.task_list(task_list)
    authentications = checker.use.get("authentications")
    if isinstance(authentications, dict):
        for name, policy in authentications.items():
            if isinstance(policy, dict):
                checker.secret_based(policy, pointer_join("/use/authentications", name))
    for key, value in data.items():
        if key in ("document", "use"):
            continue
        checker.scan(value, pointer_join("", key), str(key), None, False)
    use = data.get("use")
    if isinstance(use, dict):
        for section in ("authentications", "errors", "retries", "timeouts", "functions", "extensions", "catalogs"):
            if section in use:
                checker.scan(use[section], pointer_join("/use", section), section, "use", False)
