"""Built-in activities behind Serverless Workflow's ``run: shell | script | container`` and
``run: workflow`` with ``await: false``.

Running processes on a worker is a security decision, so it is **off by default**: a worker runs
them only for the kinds listed in the environment variable ``DWF_ENABLE_PROCESSES``
(``shell,script,container`` or ``all``), or those passed to :func:`enable_processes`. Otherwise
the task fails with a ``configuration`` problem (status 400) that names the setting.

How a process runs (see docs/serverless-workflow.md, "Running processes"):

* ``shell``: ``/bin/sh -c <command> sh <arguments...>`` — the command is a shell script (the
  spec's examples use ``$(cat)`` and ``$1``); arguments are separate argv entries, never spliced
  into the command text, so they cannot inject shell syntax;
* ``script``: the code is written to a temporary file and run as ``<interpreter> <file>
  <arguments...>``: ``python`` with the worker's own Python, ``js`` / ``javascript`` with ``node``
  from ``PATH`` (``.mjs`` when the code uses ``import`` / ``export``);
* ``container``: ``docker`` or ``podman`` (``DWF_CONTAINER_RUNTIME`` picks one) ``run``; see
  :func:`container_command`.

The environment is a minimal one (``PATH``, ``HOME``, ``LANG``, ``LC_ALL``, ``TMPDIR`` of the
worker) with the task's ``environment`` on top: the worker's secrets never leak into a process.
Each of stdout and stderr is kept up to :data:`OUTPUT_LIMIT` bytes (the rest is read and
dropped). A process runs at most the task's ``timeout`` (else :data:`DEFAULT_TIMEOUT`, or
``DWF_PROCESS_TIMEOUT`` seconds); then it is killed and the task fails with a ``timeout`` problem.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import IO, Any

from .problems import ProblemError
from .registry import ActivityContext

__all__ = [
    "DEFAULT_TIMEOUT", "ENABLE_ENV", "OUTPUT_LIMIT", "ProcessResult", "add_enable_option", "apply_enable_option",
    "container_command", "detached_instance_id", "enable_processes", "enabled_processes", "sw_run", "sw_start_workflow",
]  # fmt: skip

ENABLE_ENV = "DWF_ENABLE_PROCESSES"
RUNTIME_ENV = "DWF_CONTAINER_RUNTIME"
TIMEOUT_ENV = "DWF_PROCESS_TIMEOUT"
KINDS = ("shell", "script", "container")
#: Bytes of stdout and of stderr kept per process (1 MiB each).
OUTPUT_LIMIT = 1 << 20
#: Seconds a process may run when its task has no timeout.
DEFAULT_TIMEOUT = 600.0
RETURNS = ("stdout", "stderr", "code", "all", "none")
#: The worker's variables a process inherits; everything else comes from the task.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
_PULL = {"ifNotPresent": "missing", "always": "always", "never": "never"}

_override: frozenset[str] | None = None


def enable_processes(kinds: Iterable[str] | str | None) -> None:
    """Enable running processes in this worker process: ``enable_processes("shell,script")``,
    ``enable_processes(["container"])``, ``"all"``; ``None`` goes back to ``DWF_ENABLE_PROCESSES``."""
    global _override
    _override = None if kinds is None else _parse_kinds(kinds, strict=True)


def enabled_processes() -> frozenset[str]:
    """The process kinds this worker runs (the API setting, else the environment variable)."""
    return _override if _override is not None else _parse_kinds(os.environ.get(ENABLE_ENV, ""))


def _parse_kinds(kinds: Iterable[str] | str, *, strict: bool = False) -> frozenset[str]:
    """``strict``: an unknown name is a ValueError (the API and the flag); the environment
    variable ignores them (``none`` is a readable way to say nothing)."""
    items = kinds.split(",") if isinstance(kinds, str) else list(kinds)
    names = {item.strip().lower() for item in items if item.strip()}
    unknown = names - {*KINDS, "all", "none"}
    if strict and unknown:
        raise ValueError(f"unknown process kind {', '.join(sorted(unknown))}: use shell, script, container, all or none")
    return frozenset(KINDS) if "all" in names else frozenset(names & set(KINDS))


def add_enable_option(parser: argparse.ArgumentParser) -> None:
    """``--enable KINDS`` of ``dwf run`` and ``dwf worker``."""
    parser.add_argument("--enable", metavar="KINDS", help="run these kinds of Serverless Workflow run tasks in this "
                        f"process: shell,script,container or all (off by default; same as {ENABLE_ENV})")  # fmt: skip


def apply_enable_option(args: argparse.Namespace) -> str | None:
    """Applies ``--enable``; the usage problem, if any."""
    value = getattr(args, "enable", None)
    if not value:
        return None
    try:
        enable_processes(value)
    except ValueError as error:
        return f"--enable: {error}"
    return None


def _config(detail: str, title: str = "Invalid process") -> ProblemError:
    return ProblemError("configuration", title=title, detail=detail)


@dataclass
class ProcessResult:
    code: int
    stdout: str
    stderr: str


# -- the activity -------------------------------------------------------------------------------


def sw_run(request: Mapping[str, Any], context: ActivityContext) -> Any:
    """Runs the process a ``run`` task describes; the output follows its ``return`` mode."""
    kind = request.get("kind")
    if kind not in KINDS:
        raise _config(f"unknown process kind {kind!r}: shell, script or container")
    if kind not in enabled_processes():
        raise ProblemError("configuration", title="Processes are disabled", detail=(
            f"run.{kind} is disabled on this worker: running {kind} processes must be enabled explicitly, "
            f"with {ENABLE_ENV}={kind} (or all) in the worker's environment, dwf run/worker --enable {kind}, or "
            f"declarative_wf.activities.sw_run.enable_processes({kind!r})"))  # fmt: skip
    mode = request.get("return", "stdout")
    if mode not in RETURNS:
        raise _config(f"run.return is one of {', '.join(RETURNS)}, not {mode!r}")
    argv, cleanup = _command(kind, request, context)
    stdin = _text(request.get("stdin"), "stdin")
    env = _environment(request.get("environment"))
    if request.get("await", True) is False:
        _start_detached(argv, stdin, env)
        return None  # the node keeps its transformed input (the compiler discards this result)
    try:
        result = run_process(argv, stdin, env, _timeout(request.get("timeout")))
    finally:
        for path in cleanup:
            _remove(path)
    if result.code != 0 and mode in ("stdout", "stderr", "none"):
        # Only `code` and `all` hand the exit code to the workflow; otherwise a failure must not pass silently.
        tail = result.stderr.strip()[-2000:] or result.stdout.strip()[-2000:]
        raise ProblemError("runtime", title="Process failed",
                           detail=f"run.{kind} exited with code {result.code}" + (f": {tail}" if tail else ""))  # fmt: skip
    if mode == "stdout":
        return result.stdout
    if mode == "stderr":
        return result.stderr
    if mode == "code":
        return result.code
    if mode == "all":
        return {"code": result.code, "stdout": result.stdout, "stderr": result.stderr}
    return None


def _text(value: Any, what: str) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _environment(values: Any) -> dict[str, str]:
    env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    if values is None:
        return env
    if not isinstance(values, Mapping):
        raise _config("environment must be a mapping of variable names to values")
    for name, value in values.items():
        env[str(name)] = "" if value is None else (value if isinstance(value, str) else json.dumps(value))
    return env


def _arguments(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, Mapping):  # the spec's catalog example passes named arguments
        return [f"--{key}={_text(item, 'argument') or ''}" for key, item in value.items()]
    if not isinstance(value, list):
        raise _config("arguments must be a list of strings")
    return [item if isinstance(item, str) else json.dumps(item) for item in value]


def _timeout(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    try:
        return float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT


def _command(kind: str, request: Mapping[str, Any], context: ActivityContext) -> tuple[list[str], list[str]]:
    """``(argv, files to remove afterwards)``."""
    arguments = _arguments(request.get("arguments"))
    if kind == "shell":
        command = request.get("command")
        if not isinstance(command, str) or not command.strip():
            raise _config("run.shell.command must be a non-empty string")
        return ["/bin/sh", "-c", command, "sh", *arguments], []
    if kind == "script":
        return _script(request, arguments)
    return container_command(request, arguments, _container_runtime(), context), []


def _script(request: Mapping[str, Any], arguments: list[str]) -> tuple[list[str], list[str]]:
    language = str(request.get("language", "")).lower()
    code = request.get("code")
    if not isinstance(code, str):
        source = request.get("source")
        if source is None:
            raise _config("run.script needs code or source")
        import asyncio

        from .sw_calls import load_resource

        code = asyncio.run(load_resource(source, request.get("base"), "run.script.source"))[0]
    if language == "python":
        interpreter, suffix = sys.executable, ".py"
    elif language in ("js", "javascript"):
        node = shutil.which("node")
        if node is None:
            raise _config("run.script with language js needs node (Node.js) on the worker's PATH; install it "
                          "or run the script with run.container", title="Missing interpreter")  # fmt: skip
        # Node 20 reads a .js file as CommonJS: ES module syntax needs the .mjs suffix.
        interpreter = node
        suffix = ".mjs" if re.search(r"^\s*(import\s|export\s)", code, re.MULTILINE) else ".js"
    else:
        raise _config(f"run.script.language is python or js, not {language!r}")
    handle, path = tempfile.mkstemp(prefix="dwf-script-", suffix=suffix)
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(code)
    return [interpreter, path, *arguments], [path]


def _container_runtime() -> str:
    configured = os.environ.get(RUNTIME_ENV)
    candidates = [configured] if configured else ["docker", "podman"]
    for candidate in candidates:
        found = shutil.which(candidate)
        if found:
            return found
    raise _config(f"no container runtime (docker or podman) found on the worker's PATH"
                  f"{f' ({RUNTIME_ENV}={configured})' if configured else ''}: install one to use run.container",
                  title="No container runtime")  # fmt: skip


def container_command(request: Mapping[str, Any], arguments: list[str], runtime: str,
                      context: ActivityContext | None = None) -> list[str]:  # fmt: skip
    """The ``<runtime> run`` command line of a container process."""
    image = request.get("image")
    if not isinstance(image, str) or not image:
        raise _config("run.container.image must be an image name")
    lifetime = request.get("lifetime") or {}
    cleanup = lifetime.get("cleanup", "always") if isinstance(lifetime, Mapping) else "always"
    argv = [runtime, "run"]
    if cleanup == "always":
        argv.append("--rm")
    if request.get("stdin") is not None:
        argv.append("-i")
    name = request.get("name") or _container_name(request, context)
    argv += ["--name", re.sub(r"[^A-Za-z0-9_.-]+", "-", str(name)).strip("-.")[:128] or "dwf"]
    policy = request.get("pullPolicy", "ifNotPresent")
    if policy not in _PULL:
        raise _config(f"run.container.pullPolicy is ifNotPresent, always or never, not {policy!r}")
    argv.append(f"--pull={_PULL[policy]}")
    for key, value in _mapping(request.get("environment"), "environment").items():
        argv += ["-e", f"{key}={value if isinstance(value, str) else json.dumps(value)}"]
    for host, inner in _mapping(request.get("ports"), "ports").items():
        argv += ["-p", f"{host}:{inner}"]
    for host, inner in _mapping(request.get("volumes"), "volumes").items():
        argv += ["-v", f"{host}:{inner}"]
    argv.append(image)
    command = request.get("command")
    if isinstance(command, str) and command.strip():
        argv += ["sh", "-c", command, "sh"]  # like run.shell: arguments are $1, $2...
    return argv + arguments


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _config(f"run.container.{what} must be a mapping")
    return value


def _container_name(request: Mapping[str, Any], context: ActivityContext | None) -> str:
    """The spec's recommended ``{workflow.name}-{uuid}.{workflow.namespace}-{task.name}``."""
    task = str(request.get("task") or "task")
    workflow = str(request.get("workflow") or (context.workflow if context else None) or "workflow")
    namespace = str(request.get("namespace") or "default")
    return f"{workflow}-{uuid.uuid4().hex[:12]}.{namespace}-{task}"


# -- running --------------------------------------------------------------------------------------


def run_process(argv: list[str], stdin: str | None, env: dict[str, str], timeout: float) -> ProcessResult:
    """Runs ``argv`` to its end (killed after ``timeout`` seconds), output capped."""
    try:
        process = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)  # fmt: skip
    except OSError as error:
        raise _config(f"cannot start {argv[0]}: {error.strerror or error}", title="Process failed") from None
    out, err = _Reader(process.stdout), _Reader(process.stderr)  # type: ignore[arg-type]
    if stdin is not None:
        threading.Thread(target=_feed, args=(process.stdin, stdin), daemon=True).start()
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process)
        raise ProblemError("timeout", title="Process timed out",
                           detail=f"the process did not finish within {timeout:g}s and was killed") from None  # fmt: skip
    return ProcessResult(code, out.text(), err.text())


def _feed(pipe: IO[bytes], text: str) -> None:
    try:
        pipe.write(text.encode())
    except OSError:
        pass  # the process exited without reading its input
    finally:
        try:
            pipe.close()
        except OSError:
            pass


def _kill(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, 9)  # its whole session: a shell's children too
    except OSError:
        process.kill()
    process.wait()


class _Reader:
    """Drains a pipe in a thread (so a chatty process never blocks), keeping OUTPUT_LIMIT bytes."""

    def __init__(self, pipe: IO[bytes]) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.thread = threading.Thread(target=self._run, args=(pipe,), daemon=True)
        self.thread.start()

    def _run(self, pipe: IO[bytes]) -> None:
        with pipe:
            while chunk := pipe.read(65536):
                if self.size < OUTPUT_LIMIT:
                    self.chunks.append(chunk[: OUTPUT_LIMIT - self.size])
                    self.size += len(self.chunks[-1])

    def text(self) -> str:
        self.thread.join(5)
        return b"".join(self.chunks).decode("utf-8", "replace")


def _start_detached(argv: list[str], stdin: str | None, env: dict[str, str]) -> None:
    """``await: false``: start and forget (a new session, so it outlives the activity)."""
    # stdin from an unlinked temporary file: the detached process reads it at its own pace.
    with tempfile.TemporaryFile() as handle:
        if stdin is not None:
            handle.write(stdin.encode())
            handle.seek(0)
        try:
            subprocess.Popen(argv, stdin=handle if stdin is not None else subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=env, start_new_session=True)  # fmt: skip
        except OSError as error:
            raise _config(f"cannot start {argv[0]}: {error.strerror or error}", title="Process failed") from None


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# -- run: workflow, await: false --------------------------------------------------------------------


def detached_instance_id(parent: str, node: str | None, task_id: int) -> str:
    """The child's instance id: the same call (also when redelivered) gives the same id, so the
    child starts once. At most 64 characters (Dapr's limit)."""
    digest = hashlib.sha256(f"{parent}\0{node}\0{task_id}".encode()).hexdigest()[:16]
    return f"{re.sub(r'[^A-Za-z0-9_-]+', '-', parent)[:40]}-run-{digest}"


def sw_start_workflow(request: Mapping[str, Any], context: ActivityContext) -> str:
    """Starts a workflow as an independent instance on the worker's engine; returns its id."""
    if not context.engine_address:
        raise ProblemError("configuration", title="No engine", detail="run.workflow with await: false needs a worker connected to an engine")
    from declarative_wf.interpreter.dapr_adapter import WORKFLOW_NAME
    from declarative_wf.interpreter.workflow import make_payload
    from declarative_wf.ir import workflow_from_json

    if not isinstance(request.get("ir"), str):
        raise _config("run.workflow with await: false carries the child's compiled graph (recompile the definition)")
    payload = make_payload(workflow_from_json(json.loads(request["ir"])), request.get("input"))
    instance_id = detached_instance_id(context.instance_id, context.node, context.task_id)
    import dapr.ext.workflow as wf
    import grpc

    host, port = context.engine_address.rsplit(":", 1)
    client = wf.DaprWorkflowClient(host=host, port=port)
    try:
        if client.get_workflow_state(instance_id, fetch_payloads=False) is None:
            client.schedule_new_workflow(WORKFLOW_NAME, input=payload, instance_id=instance_id)
    except grpc.RpcError as error:  # "already exists": a redelivery of this call won the race
        if "exist" not in str(error).lower():
            raise ProblemError("runtime", title="Cannot start the workflow", detail=str(error)) from None
    finally:
        client.close()
    return instance_id
