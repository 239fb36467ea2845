"""``$authorization`` — the resolved authorization ``{scheme, parameter}`` of a call task
(``dsl.md``, "Runtime expression arguments" / "Authorization Descriptor").

The descriptor holds a credential, and whatever a workflow evaluates may end up in its
history (stored, replayed, shown by ``dwf history``). So it is provided with least exposure:

* in ``output.as`` / ``export.as`` of a call task (http, openapi, grpc, asyncapi): only when
  that task's ``output.as`` or ``export.as`` mentions ``$authorization`` does the compiler ask
  the call activity to return the descriptor of the Authorization it sent (its result, thus
  the history, then holds it). Every scheme works there, OAuth2 / OIDC tokens included;
* in the task definition (``with``, evaluated by the orchestrator *before* the call): only for
  ``basic`` and ``bearer``, whose header is known without talking to a server; the
  orchestrator resolves the policy (its expressions, its secrets) when the ``with`` mentions
  ``$authorization``. ``digest`` needs the server's challenge and OAuth2 / OIDC a token
  request, so they are refused there when compiling (``SW-E113``);
* everywhere else ``$authorization`` is ``null``.

The compiler records its findings under ``options["sw"]["authorization"][<task node id>]``:
``{"exposed": true}`` and/or ``{"definition": <the compiled policy expression>}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from declarative_wf import ir

__all__ = ["DEFINITION_SCHEMES", "expose", "mentions", "resolve_definition", "use_in_definition"]

_MENTION = re.compile(r"\$authorization\b")
#: Schemes whose descriptor is known before the call.
DEFINITION_SCHEMES = ("basic", "bearer")


def mentions(value: Any) -> bool:
    """Whether a definition fragment (expressions inside) uses ``$authorization``."""
    if value is None:
        return False
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return bool(_MENTION.search(text))


def _facts(context: Any) -> dict[str, Any] | None:
    """The record of this task in the shared compile options (None outside the core compiler)."""
    compiler = getattr(context, "compiler", None)
    node_id = getattr(context, "id", None)
    if compiler is None or not isinstance(node_id, str):
        return None
    table: dict[str, Any] = compiler.shared.options.setdefault("authorization", {})
    return table.setdefault(node_id, {})  # type: ignore[no-any-return]


def expose(context: Any, task: Mapping[str, Any]) -> bool:
    """True (and the task is recorded) when its ``output.as`` / ``export.as`` use
    ``$authorization``: its call activity must then return the descriptor."""
    output, export = task.get("output"), task.get("export")
    used = mentions(output.get("as") if isinstance(output, Mapping) else None) or mentions(
        export.get("as") if isinstance(export, Mapping) else None
    )
    if not used:
        return False
    facts = _facts(context)
    if facts is None:
        return False
    facts["exposed"] = True
    return True


def use_in_definition(context: Any, task: Mapping[str, Any], policy: ir.Expr | None, pointer: str) -> None:
    """When the task's ``with`` uses ``$authorization``: record ``policy`` (the compiled
    authentication) for the orchestrator, or report why it cannot be known before the call."""
    if not mentions(task.get("with")) or policy is None or (policy.lang == "literal" and policy.value is None):
        return  # no authentication: $authorization is null
    value = policy.value if policy.lang == "literal" else None
    if policy.lang == "template" and isinstance(policy.value, dict) and len(policy.value) == 1:
        value = policy.value  # {scheme: {...expressions...}}: the scheme is known
    scheme = next(iter(value)) if isinstance(value, dict) and len(value) == 1 else None
    if scheme is not None and scheme not in DEFINITION_SCHEMES:
        context.error("SW-E113", f"$authorization is not known before a {scheme} call: the task definition (with) "
                      "can use it only with basic or bearer authentication", pointer,
                      hint="use $authorization in output.as or export.as, which see the credentials the call sent")  # fmt: skip
        return
    facts = _facts(context)
    if facts is not None:
        facts["definition"] = {"lang": policy.lang, "value": policy.value}


def resolve_definition(value: Any) -> dict[str, str] | None:
    """The descriptor of an evaluated authentication policy (basic / bearer, secrets read
    here). Raises ValueError with a message for the author, LookupError for a missing secret."""
    from declarative_wf.activities.auth import (
        AuthError,
        descriptor,
        parse_auth,
        static_header,
    )

    if value is None:
        return None
    try:
        spec = parse_auth(value)
    except AuthError as error:
        raise ValueError(str(error)) from None
    if spec is None:
        return None
    header = static_header(spec)
    if header is None:
        raise ValueError(f"$authorization is not known before a {spec.scheme} call (only basic and bearer); "
                         "use it in output.as or export.as")  # fmt: skip
    return descriptor(header)
