"""Node runners, one module per family; importing this package registers them all."""

from . import concurrent, events, flow, tasks

__all__ = ["concurrent", "events", "flow", "tasks"]
