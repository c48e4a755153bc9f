#!/usr/bin/env bash
# compose_test.sh - docker-compose.yml and Dockerfile agree with the code and the Makefile.
# No Docker engine needed: the compose file is parsed with Debian's python3-yaml.
#   COMPOSE_TEST_SRC=DIR  look for the C sources (common/ worker/ producer/) under DIR
#                         instead of the repository root (for checking this test itself).
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SRC=${COMPOSE_TEST_SRC:-$ROOT}
COMPOSE=$ROOT/docker-compose.yml
DOCKERFILE=$ROOT/Dockerfile
PY=/usr/bin/python3 # Debian's python3 has python3-yaml; another python3 may be first on PATH

fail() {
    echo "FAIL compose: $*" >&2
    exit 1
}

[ -f "$COMPOSE" ] || fail "docker-compose.yml is missing"
[ -f "$DOCKERFILE" ] || fail "Dockerfile is missing"
[ -x "$PY" ] || fail "$PY is missing (apt-get install python3-yaml)"
"$PY" -c 'import yaml' 2>/dev/null || fail "python3-yaml is missing (sh scripts/deps.sh installs it)"

# Facts from the compose file, one "key<TAB>value" per line (checked below in shell).
facts=$("$PY" - "$COMPOSE" <<'PY'
import re, shlex, sys, yaml

try:
    with open(sys.argv[1]) as f:
        doc = yaml.safe_load(f)
except yaml.YAMLError as e:
    sys.stderr.write("%s\n" % e)
    sys.exit(1)

def out(k, v):
    print("%s\t%s" % (k, v))

def words(cmd):
    if cmd is None:
        return []
    if isinstance(cmd, str):
        return shlex.split(cmd)
    return [str(w) for w in cmd]

def env(svc):
    e = svc.get("environment") or {}
    if isinstance(e, list):
        d = {}
        for item in e:
            k, _, v = str(item).partition("=")
            d[k] = v
        return d
    return {str(k): ("" if v is None else str(v)) for k, v in e.items()}

def seconds(v):
    # compose durations: "40s", "1m30s", "1.5s", "500ms", or a bare number of seconds
    if isinstance(v, (int, float)):
        return float(v)
    s, total, units = str(v).strip(), 0.0, {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", s)
    if not parts or "".join(a + b for a, b in parts) != s:
        return -1
    for num, unit in parts:
        total += float(num) * units[unit]
    return total

services = (doc or {}).get("services") or {}
for name in services:
    out("service", name)

for name in ("migrate", "worker"):
    svc = services.get(name) or {}
    w = words(svc.get("command"))
    out(name + ".argv0", w[0].rsplit("/", 1)[-1] if w else "")
    out(name + ".argv", " ".join(w))

worker = services.get("worker") or {}
out("worker.container_name", worker.get("container_name", ""))
out("worker.ports", len(worker.get("ports") or []))
out("worker.stop_grace_s", seconds(worker.get("stop_grace_period", "10s")))
out("worker.SYNCQ_GRACE", env(worker).get("SYNCQ_GRACE", ""))

dep = (services.get("migrate") or {}).get("depends_on") or {}
cond = dep.get("postgres", {}).get("condition", "") if isinstance(dep, dict) else ""
out("migrate.postgres_condition", cond)
dep = worker.get("depends_on") or {}
cond = dep.get("migrate", {}).get("condition", "") if isinstance(dep, dict) else ""
out("worker.migrate_condition", cond)

redis = services.get("redis") or {}
out("redis.argv", " ".join(words(redis.get("command"))))

names = set()
for svc in services.values():
    names.update(k for k in env(svc) if k.startswith("SYNCQ_"))
# also names only mentioned in commands or x- blocks
with open(sys.argv[1]) as f:
    names.update(re.findall(r"\bSYNCQ_[A-Z0-9_]+\b", f.read()))
for n in sorted(names):
    out("env", n)
PY
) || fail "docker-compose.yml does not parse as YAML"

fact() { printf '%s\n' "$facts" | awk -F '\t' -v k="$1" '$1 == k { print $2 }'; }

# 1. the four services
for s in redis postgres migrate worker; do
    fact service | grep -qx "$s" || fail "service '$s' is missing"
done

# 2. commands name the binaries, and the Makefile builds them
[ "$(fact worker.argv0)" = "syncq-worker" ] ||
    fail "worker command must start with syncq-worker (is: $(fact worker.argv))"
[ "$(fact migrate.argv0)" = "syncq" ] ||
    fail "migrate command must start with syncq (is: $(fact migrate.argv))"
case " $(fact migrate.argv) " in *" migrate "*) ;; *) fail "migrate command must run 'syncq migrate'" ;; esac
for b in syncq-worker syncq; do
    grep -Eq "(^|[[:space:]/])bin/$b([[:space:]:]|$)" "$ROOT/Makefile" ||
        fail "the Makefile does not build bin/$b"
done

# 3. every SYNCQ_* variable of the compose file is read by the code
set -- "$SRC"/common/*.c "$SRC"/worker/*.c "$SRC"/producer/*.c
srcs=""
for f in "$@"; do [ -f "$f" ] && srcs=1; done
[ -n "$srcs" ] || fail "no C sources under $SRC/{common,worker,producer}"
for n in $(fact env); do
    grep -qsF -- "\"$n\"" "$@" ||
        fail "$n is set in docker-compose.yml but no C file in common/ worker/ producer/ reads \"$n\""
done

# 4. the worker can be scaled and gets its grace period
[ -z "$(fact worker.container_name)" ] || fail "worker has a container_name (breaks --scale)"
[ "$(fact worker.ports)" = "0" ] || fail "worker publishes host ports (breaks --scale)"
grace=$(fact worker.SYNCQ_GRACE)
case "$grace" in '' | *[!0-9]*) fail "worker must set SYNCQ_GRACE to a number of seconds (is: '$grace')" ;; esac
stop=$(fact worker.stop_grace_s)
awk -v a="$stop" -v b="$grace" 'BEGIN { exit !(a > b) }' ||
    fail "worker stop_grace_period (${stop}s) must exceed SYNCQ_GRACE (${grace}s)"
[ "$(fact worker.migrate_condition)" = "service_completed_successfully" ] ||
    fail "worker must depend on migrate with condition service_completed_successfully"
[ "$(fact migrate.postgres_condition)" = "service_healthy" ] ||
    fail "migrate must depend on postgres with condition service_healthy"

# 5. redis never evicts jobs and keeps an append-only file
rargs=" $(fact redis.argv) "
case "$rargs" in *" --maxmemory-policy noeviction "*) ;; *) fail "redis must run with --maxmemory-policy noeviction" ;; esac
case "$rargs" in *" --appendonly yes "*) ;; *) fail "redis must run with --appendonly yes" ;; esac

# 6. the Dockerfile installs the build packages (through scripts/deps.sh, or by name) and builds
if grep -Eq '^[[:space:]]*RUN .*scripts/deps\.sh' "$DOCKERFILE"; then
    grep -Eq '^[[:space:]]*COPY .*scripts/(deps\.sh)?' "$DOCKERFILE" ||
        fail "Dockerfile runs scripts/deps.sh without copying it"
else
    for p in $(sh "$ROOT/scripts/deps.sh" --list build); do
        grep -qw -- "$p" "$DOCKERFILE" || fail "Dockerfile neither runs scripts/deps.sh nor installs $p"
    done
fi
grep -Eq '^[[:space:]]*RUN .*make( .*)? all' "$DOCKERFILE" || fail "Dockerfile does not run 'make all'"
for b in syncq syncq-worker; do
    grep -Eq "bin/$b([[:space:]]|$)" "$DOCKERFILE" || fail "Dockerfile does not copy bin/$b"
done
user=$(awk 'toupper($1) == "USER" { u = $2 } END { print u }' "$DOCKERFILE")
case "$user" in '' | root | root:* | 0 | 0:*) fail "the image must run as a non-root USER (is: '${user:-root}')" ;; esac

echo "ok compose"
