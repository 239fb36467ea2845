"""declarative_wf: declarative durable workflows on Dapr Workflow."""

from .engine import Engine, EngineOptions

__version__ = "0.1.0"

__all__ = ["Engine", "EngineOptions", "__version__"]
