#!/bin/bash
# `syncq-worker --help` names the signals and the services file, and the
# README's variable table lists every SYNCQ_ variable the binaries read.
. "$(dirname "$0")/../lib.sh"

help=$(bin/syncq-worker --help) || fail "syncq-worker --help exits $?"
for word in SIGTERM SIGINT SIGHUP SIGTTIN SIGTTOU SIGTSTP SIGCONT SYNCQ_SERVICES; do
    echo "$help" | grep -q "$word" || fail "syncq-worker --help does not mention $word"
done
echo "$help" | grep -q 'SIGHUP .*reload SYNCQ_SERVICES' || fail "--help does not say SIGHUP reloads the services file"

# every variable the C sources read has a row in the README's table
python3 - <<'PY' || fail "README's variable table lacks a variable the binaries read"
import re, subprocess
used = set(subprocess.run("grep -rho '\"SYNCQ_[A-Z_]*\"' common worker producer", shell=True,
                          capture_output=True, text=True).stdout.replace('"', '').split())
listed = set()
for row in open("README.md"):
    if not row.startswith("| `SYNCQ_"):
        continue
    names = re.findall(r"`(SYNCQ_[A-Z_]*|_[A-Z_]+)`", row.split("|")[1])
    for n in names:  # `SYNCQ_HEARTBEAT_TTL` / `_EVERY` names SYNCQ_HEARTBEAT_EVERY too
        listed.add(n if n.startswith("SYNCQ_") else names[0].rsplit("_", 1)[0] + n)
print("used:", len(used), "missing:", sorted(used - listed))
raise SystemExit(1 if used - listed else 0)
PY
echo ok
