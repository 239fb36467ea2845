"""Activities: the user registry and the built-ins every worker provides.

``Registry`` and ``@activity`` turn plain Python functions into Dapr activities (see
:mod:`.registry`); :mod:`.http` is the built-in ``http`` activity.
"""

from __future__ import annotations

from .registry import (
    BUILTIN_NAMES,
    ActivityCancelled,
    ActivityContext,
    ActivityImportError,
    DuplicateActivityError,
    Registry,
    RegistryError,
    activity,
    default_registry,
)


def builtin_registry() -> Registry:
    """A new registry of the built-in activities."""
    from .http import http

    registry = Registry()
    registry.add(http, "http")
    return registry


__all__ = [
    "BUILTIN_NAMES",
    "ActivityCancelled",
    "ActivityContext",
    "ActivityImportError",
    "DuplicateActivityError",
    "Registry",
    "RegistryError",
    "activity",
    "builtin_registry",
    "default_registry",
]
