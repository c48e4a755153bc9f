"""enqueue.py - enqueue a syncq job from Python (redis-py), as docs/PROTOCOL.md shows.

    SYNCQ_REDIS_PORT=6379 /usr/bin/python3 examples/enqueue.py
"""
import json
import os

import redis

r = redis.Redis(host=os.environ.get("SYNCQ_REDIS_HOST", "127.0.0.1"),
                port=int(os.environ.get("SYNCQ_REDIS_PORT", "6379")))
prefix = os.environ.get("SYNCQ_PREFIX", "syncq")

job = {
    "kind": "sync",
    "service": "syncq",
    "action": "noop",
    "scope": "zone-example.org",
    "actor": "cron",
    "debounce_key": "zone-example.org",   # sync jobs only: bursts collapse into the newest
    "debounce_ms": 200,
    "payload": {"page_size": 100},
}
ready = f"{prefix}:{{sync}}:ready"       # the braces are a Redis Cluster hash tag

# One atomic step: validate, fill id/enqueued_at, debounce, push, audit.
job_id, state = r.fcall("syncq_enqueue", 1, ready, json.dumps(job))
print(job_id.decode(), state.decode())

# A delayed mutation: run in 1.5 s (delay_ms) on the urgent lane.
later = {"kind": "mutation", "service": "syncq", "action": "noop", "delay_ms": 1500}
job_id, state = r.fcall("syncq_enqueue", 1, f"{prefix}:{{urgent}}:ready", json.dumps(later))
print(job_id.decode(), state.decode())

# A bad envelope raises redis.ResponseError with the reason.
try:
    r.fcall("syncq_enqueue", 1, ready, json.dumps({"kind": "sync", "service": "syncq"}))
except redis.ResponseError as e:
    print("refused:", e)
