"""Node runners, one module per family; importing this package registers them all."""

from . import concurrent, flow, tasks

__all__ = ["concurrent", "flow", "tasks"]
