"""The generic orchestrator: interprets any IR graph as a durable workflow.

The core (:mod:`.workflow`, :mod:`.blocks`, :mod:`.nodes`) is engine-independent: node runners
yield commands and the scheduler (:mod:`.scheduler`) multiplexes concurrent branches over an
engine host. :mod:`.dapr_adapter` is the host for Dapr Workflow.
"""
