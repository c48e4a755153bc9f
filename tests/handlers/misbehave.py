#!/usr/bin/env python3
"""A per_job exec handler that misbehaves on request, for tests/it/it_exec.sh:
payload.do is ok | tempfail (exit 75 while attempt <= fail_times) | sleep (ms,
writing its pid to pidfile first) | garbage | big | leak (payload.password and
$HANDLER_SECRET on stderr, exit 3) | signal (SIGKILL itself) | secret (a result
quoting payload.value as a password)."""
import json
import os
import signal
import sys
import time

job = json.load(sys.stdin)
p = job.get("payload") or {}
do = p.get("do", "ok")
if do == "tempfail" and job["attempt"] <= p.get("fail_times", 1):
    print(json.dumps({"error": "busy on attempt %d" % job["attempt"], "retry_after_ms": p.get("retry_after_ms", 0)}))
    sys.exit(75)
if do == "sleep":
    with open(p["pidfile"], "w") as f:
        f.write(str(os.getpid()))
    time.sleep(p.get("ms", 0) / 1000.0)
if do == "garbage":
    print("this is not JSON")
    sys.exit(0)
if do == "big":
    sys.stdout.write("x" * (2 * 1024 * 1024))
    sys.exit(0)
if do == "leak":
    sys.stderr.write("login failed for password=%s with key %s\n" % (p.get("password"), os.environ.get("HANDLER_SECRET")))
    sys.exit(3)
if do == "signal":
    os.kill(os.getpid(), signal.SIGKILL)
if do == "snapshot":  # it_exec: the target's snapshot row as the program got it
    print(json.dumps({"result": {"do": do, "snapshot": job.get("snapshot", "absent")}}))
    sys.exit(0)
if do == "secret":  # a result that quotes a secret: it_events checks the events stream masks it
    print(json.dumps({"result": {"do": do, "password": p.get("value")}}))
    sys.exit(0)
print(json.dumps({"result": {"do": do, "attempt": job["attempt"]}}))
