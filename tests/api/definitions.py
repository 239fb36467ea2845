"""Definitions the API tests submit (texts, so each test states exactly what it sends)."""

WAITER_V1 = """\
dwf: 1
name: waiter
steps:
  - wait_for: go
  - set: { got: "${ result }", logic: v1 }
"""

WAITER_V2 = WAITER_V1.replace("logic: v1", "logic: v2")

DOUBLER = """\
dwf: 1
name: doubler
version: "1.0"
input:
  schema: { type: object, required: [n], properties: { n: { type: integer } } }
steps:
  - call: double
"""

FAILER = """\
dwf: 1
name: failer
steps:
  - fail: { error: OutOfStock, message: "no stock" }
"""

RECORDER = """\
dwf: 1
name: recorder
steps:
  - call: record
  - call: record
  - call: record
"""

#: Two problems: an unknown key and a bad expression (dwf validate reports both).
BROKEN = """\
dwf: 1
name: broken
steps:
  - cal: charge
  - set: "${ result. }"
"""
