#!/usr/bin/python3
"""count_runs.py - a persistent exec handler that appends each job id it runs
to $RUNS_FILE (one line, O_APPEND: whole lines from several children), so a
test counts how often each job really ran (it_sentinel: lost and doubled).
$RUN_DELAY_MS (default 0) paces it: each job takes that long, so jobs are
still waiting when the test's failover lands, however fast the machine."""
import json
import os
import sys
import time

delay = float(os.environ.get("RUN_DELAY_MS", "0")) / 1000.0
fd = os.open(os.environ["RUNS_FILE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
for line in sys.stdin:
    job = json.loads(line)
    if delay:
        time.sleep(delay)
    os.write(fd, (job["id"] + "\n").encode())
    sys.stdout.write(json.dumps({"id": job["id"], "status": "ok"}) + "\n")
    sys.stdout.flush()
