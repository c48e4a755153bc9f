#!/usr/bin/env python3
"""A syncq exec handler in Python, mode per_job: syncq starts this program once
per job, writes the job as one JSON object on stdin and reads the outcome from
the exit status and stdout (docs/HANDLERS.md).

    exit 0   success; stdout {"result": ...} goes to the audit row
    exit 75  temporary failure (EX_TEMPFAIL): retried with backoff; stdout may
             say {"error": "...", "retry_after_ms": N}
    other    permanent failure: dead-lettered; stdout {"error": "..."} or
             stderr says why (masked before it is stored)

services file:
    "greeter": {"exec": {"command": ["python3", "examples/handlers/greet.py"]},
                "actions": {"greet": {}}}
"""
import json
import sys


def main():
    job = json.load(sys.stdin)
    payload = job.get("payload") or {}
    fail = payload.get("fail")
    if fail == "temporary":
        print(json.dumps({"error": "the greeting service is busy", "retry_after_ms": 200}))
        return 75
    if fail == "permanent":
        print(json.dumps({"error": "refusing to greet %s" % payload.get("name", "nobody")}))
        return 1
    name = payload.get("name", "world")
    print(json.dumps({"result": {"greeting": "hello, %s" % name, "by": "python",
                                 "job": job["id"], "attempt": job["attempt"]}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
