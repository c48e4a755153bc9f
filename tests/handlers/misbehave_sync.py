#!/usr/bin/env python3
"""An exec sync that misbehaves on request (tests/it/it_exec_sync.sh): it
lists RECORDS_FILE like examples/handlers/list_records.py, then does what the
job's payload "do" says:
  die_after N      exit 1 after N records, before the summary (stderr: why, with the payload's password)
  exit0_after N    exit 0 after N records, without a summary
  garbage_at N     line N is not JSON
  no_data_at N     line N is a record without data
  big_at N         line N is 2 MiB
  after_summary    a record after the summary line
  partial          the summary says complete: false
"""
import json
import os
import sys


def main():
    job = json.loads(sys.stdin.readline())
    p = job.get("payload") or {}
    do, n = p.get("do", ""), int(p.get("n", 0))
    path = os.environ["RECORDS_FILE"].replace("{scope}", job.get("scope") or "")
    out = sys.stdout
    with open(path, encoding="utf-8") as f:
        recs = [json.loads(l) for l in f if l.strip()]
    for i, obj in enumerate(recs, 1):
        if do == "die_after" and i > n:
            out.flush()
            print("upstream went away while listing (password=%s)" % p.get("password", ""), file=sys.stderr)
            return 1
        if do == "exit0_after" and i > n:
            out.flush()
            return 0
        if do == "garbage_at" and i == n:
            out.write("this is not json\n")
        elif do == "no_data_at" and i == n:
            out.write(json.dumps({"id": obj["id"]}) + "\n")
        elif do == "big_at" and i == n:
            out.write(json.dumps({"id": obj["id"], "data": {"blob": "x" * (2 << 20)}}) + "\n")
        else:
            out.write(json.dumps({"id": str(obj["id"]), "data": obj}) + "\n")
    out.write(json.dumps({"complete": do != "partial"}) + "\n")
    if do == "after_summary":
        out.write(json.dumps({"id": "late", "data": {}}) + "\n")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        sys.exit(1)  # syncq stopped reading: it killed us anyway
