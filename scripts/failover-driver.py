#!/usr/bin/env python3
"""Writers for scripts/failover: book one-unit receipts through two Quarry nodes
while the script kills PostgreSQL primaries, and account for every one.

Each receipt carries a unique Idempotency-Key, also used as its `reference`.
A write answered 201 is *acknowledged*; one that got no answer, or a 5xx, is
retried later with the same key (which books it at most once). Commands on
stdin (one per line): `stats` prints the counts so far as JSON; `stop` stops the
writers, retries every unanswered key until it is booked, verifies the ledger
and prints the final report as JSON. Standard library only.
"""

import json
import sys
import threading
import time
import urllib.error
import urllib.request

NODES = sys.argv[1].split(",")  # base URLs
TOKEN = sys.argv[2]
SKU = sys.argv[3]
WRITERS = int(sys.argv[4]) if len(sys.argv) > 4 else 8

lock = threading.Lock()
acknowledged = set()  # keys answered 201
unanswered = set()  # keys sent without a 201 (timeout, 503, connection error)
refusals = []  # (time, status) of every answer that was not 201
acks = []  # time of every 201
running = True


def request(node, method, path, body=None, key=None, timeout=15):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(node + path, data=data, method=method)
    req.add_header("authorization", "Bearer " + TOKEN)
    if body is not None:
        req.add_header("content-type", "application/json")
    if key:
        req.add_header("idempotency-key", key)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except Exception as e:  # connection refused, reset, timeout
        return None, str(e)


def receipt(key):
    return {
        "kind": "receive",
        "location": "YARD",
        "reference": key,
        "lines": [{"sku": SKU, "quantity": "1"}],
    }


def writer(n):
    i = 0
    while running:
        key = f"w{n}-{i}"
        i += 1
        node = NODES[i % len(NODES)]
        status, _ = request(node, "POST", "/api/v1/movements", receipt(key), key)
        with lock:
            if status == 201:
                acknowledged.add(key)
                unanswered.discard(key)
                acks.append(time.time())
            else:
                unanswered.add(key)
                refusals.append((time.time(), status))
        if status != 201:
            time.sleep(0.05)


def stats():
    with lock:
        return {
            "acknowledged": len(acknowledged),
            "unanswered": len(unanswered),
            "refused": len(refusals),
        }


def window(start):
    """The refusals since `start`: how many, the first and the last, and the
    first acknowledgement after the last one (writes working again)."""
    with lock:
        times = [t for t, _ in refusals if t >= start]
        last = max(times) if times else start
        resumed = next((t for t in acks if t > last), None)
    return {
        "refused": len(times),
        "first": min(times) if times else None,
        "last": max(times) if times else None,
        "resumed": resumed,
    }


def finish():
    global running
    running = False
    for t in threads:
        t.join()
    # Every write that was never answered 201 is retried with its key until
    # it is: then it was booked exactly once, whether or not the first try was.
    retried = 0
    for key in sorted(unanswered):
        for attempt in range(600):
            status, _ = request(NODES[attempt % len(NODES)], "POST", "/api/v1/movements", receipt(key), key)
            if status == 201:
                retried += 1
                break
            time.sleep(0.1)
        else:
            raise SystemExit(f"{key} could not be booked after the failovers")
    keys = acknowledged | unanswered
    # Every movement of the product, from each node: each key exactly once.
    reports = []
    for node in NODES:
        seen = {}
        cursor = None
        while True:
            path = f"/api/v1/movements?sku={SKU}&limit=500" + (f"&cursor={cursor}" if cursor else "")
            status, page = request(node, "GET", path)
            if status != 200:
                raise SystemExit(f"listing movements on {node}: {status} {page}")
            for m in page["items"]:
                ref = m.get("reference")
                if ref:
                    seen[ref] = seen.get(ref, 0) + 1
            cursor = page.get("next_cursor") or page.get("next")
            if not cursor:
                break
        status, stock = request(node, "GET", f"/api/v1/stock?sku={SKU}&location=YARD")
        on_hand = stock["items"][0]["on_hand"] if status == 200 and stock["items"] else "0"
        # The node's search index follows the log: its availability is the level.
        indexed = None
        for _ in range(50):
            status, found = request(node, "GET", f"/api/v1/search?q={SKU}")
            hits = found.get("hits", []) if status == 200 else []
            indexed = next((h["availability"].get("available") for h in hits if h["sku"] == SKU), None)
            if indexed == on_hand:
                break
            time.sleep(0.1)
        reports.append(
            {
                "node": node,
                "movements": sum(seen.values()),
                "missing": sorted(k for k in acknowledged if k not in seen)[:10],
                "missing_count": sum(1 for k in acknowledged if k not in seen),
                "doubled_count": sum(1 for v in seen.values() if v > 1),
                "unknown_count": sum(1 for k in seen if k not in keys),
                "on_hand": on_hand,
                "search_available": indexed,
            }
        )
    return {
        "acknowledged": len(acknowledged),
        "retried_after": retried,
        "keys": len(keys),
        "nodes": reports,
    }


threads = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(WRITERS)]
for t in threads:
    t.start()

for line in sys.stdin:
    command = line.split()
    if not command:
        continue
    if command[0] == "stats":
        print(json.dumps(stats()), flush=True)
    elif command[0] == "window":
        print(json.dumps(window(float(command[1]))), flush=True)
    elif command[0] == "stop":
        print(json.dumps(finish()), flush=True)
        break
