"""Event bus throughput: events published per second into the engine's bus, with 0, 10 and 100
subscriptions (a jq filter each and a correlation; all on the event's type, or each on
another type so constant tests decide first), next to a baseline of bare SQLite inserts of the same
rows in the same WAL database. Deliveries go to a no-op deliverer, so this measures the bus
(validation, matching, the transaction), not the workflow engine.

    python benchmarks/events_bus.py [--events 2000] [--batch 1]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from pathlib import Path

from declarative_wf.engine.eventbus import EventBus, SubscriptionSpec


def _event(n: int) -> dict[str, object]:
    return {"specversion": "1.0", "id": f"e{n}", "source": "/bench", "type": "bench.reading", "data": {"room": n % 50, "value": n}}


def baseline(path: Path, count: int) -> float:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, body TEXT)")
    started = time.perf_counter()
    for n in range(count):
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t (body) VALUES (?)", (json.dumps(_event(n)),))
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return count / elapsed


def bus_rate(path: Path, count: int, subscriptions: int, batch: int, distinct_types: bool) -> float:
    bus = EventBus(path, lambda instance, name, payload: None)
    for index in range(subscriptions):
        kind = f"bench.other{index}" if distinct_types and index else "bench\\.reading"
        spec = SubscriptionSpec.from_json({"groups": {"main": [{
            "with": {"data": {"jq": f".value % {subscriptions} == {index}"}, "type": {"regex": kind}},
            "correlate": {"room": {"from": ".data.room"}},
        }]}})  # fmt: skip
        bus.subscribe(f"s{index}", spec, instance_id=f"i{index}", event_name="e")
    bus.start()
    started = time.perf_counter()
    for first in range(0, count, batch):
        bus.publish_many([_event(n) for n in range(first, min(count, first + batch))])
    elapsed = time.perf_counter() - started
    bus.close()
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        base = baseline(Path(folder) / "base.db", args.events)
        print(f"baseline: bare SQLite insert+commit        {base:10.0f} events/s")
        for subscriptions, distinct in ((0, False), (10, False), (100, False), (100, True)):
            rate = bus_rate(Path(folder) / f"bus{subscriptions}{distinct}.db", args.events, subscriptions, args.batch, distinct)
            label = "distinct types" if distinct else "one type, jq   "
            print(f"bus, {subscriptions:3d} subscriptions ({label}), batch {args.batch:3d}   {rate:8.0f} events/s   ({rate / base:.2f}x baseline)")


if __name__ == "__main__":
    main()
