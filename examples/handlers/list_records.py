#!/usr/bin/env python3
"""A syncq exec sync in Python: syncq starts this program once per sync job,
writes the job as one JSON object on stdin, and reads the remote set from its
stdout as NDJSON, one record a line, then a summary line (docs/HANDLERS.md,
"Exec syncs"):

    {"id": "c1", "data": {"name": "Ada", "email": "ada@example.org"}}
    {"id": "c2", "data": {...}}
    {"complete": true}

syncq stages the records and converges syncq_snapshots as for an HTTP sync:
rows absent from the list are deleted only after {"complete": true} and a
clean exit (0). Exit 75 asks for a retry; any other exit, or an exit before
the summary line, fails the sync and changes nothing.

This one lists the objects of a JSON Lines file, e.g. an app's export: one
object with an "id" a line. RECORDS_FILE names it; "{scope}" in the name is
the job's scope. A real program would page through an API or a database the
same way: print each record as it comes, never the whole set at once.

services file:
    "crm": {"resources": {"contacts": {
        "hash_fields": ["name", "email"],
        "list": {"exec": {"command": ["python3", "examples/handlers/list_records.py"],
                          "env": {"RECORDS_FILE": "/srv/export/{scope}.jsonl"}}}}}}
"""
import json
import os
import sys


def main():
    job = json.loads(sys.stdin.readline())
    path = os.environ["RECORDS_FILE"].replace("{scope}", job.get("scope") or "")
    try:
        source = open(path, encoding="utf-8")
    except OSError as e:
        print("cannot read the export %s: %s" % (path, e.strerror), file=sys.stderr)
        return 75  # the export may be on its way: retry later
    out = sys.stdout
    with source:
        for line in source:
            if not line.strip():
                continue
            obj = json.loads(line)
            out.write(json.dumps({"id": str(obj["id"]), "data": obj}, separators=(",", ":")) + "\n")
    out.write('{"complete":true}\n')
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
