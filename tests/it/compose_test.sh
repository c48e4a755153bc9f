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
for p in redis.get("ports") or []:
    out("redis.port", p)

hc = worker.get("healthcheck") or {}
out("worker.healthcheck", " ".join(words(hc.get("test"))))
wenv = env(worker)
out("worker.SYNCQ_METRICS_ADDR", wenv.get("SYNCQ_METRICS_ADDR", ""))
out("worker.SYNCQ_SERVICES", wenv.get("SYNCQ_SERVICES", ""))
for c in worker.get("configs") or []:
    if isinstance(c, dict):
        out("worker.config_target", c.get("target", ""))
for name, svc in services.items():
    if svc.get("image"):
        out("image", "%s %s" % (name, svc["image"]))
    for k, v in env(svc).items():
        # a credential written into the compose file itself
        if re.search(r"://[^/@\s]*:[^/@\s]+@", v) or (re.search(r"PASSWORD|SECRET|TOKEN", k) and not k.endswith("_FILE")):
            out("literal_secret", "%s %s" % (name, k))
for sname, sdef in ((doc or {}).get("secrets") or {}).items():
    out("secret_file", (sdef or {}).get("file", ""))

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

# 7. production shape: a health check without curl, metrics on the container interface, the
#    services file mounted where SYNCQ_SERVICES points, pinned images, no credential in the
#    file, Redis published on loopback only
case " $(fact worker.healthcheck) " in *" syncq healthcheck "*) ;; *) fail "worker healthcheck must run 'syncq healthcheck' (is: $(fact worker.healthcheck))" ;; esac
case "$(fact worker.SYNCQ_METRICS_ADDR)" in 0.0.0.0:* | "[::]:"*) ;; *) fail "worker must serve metrics on the container interface (SYNCQ_METRICS_ADDR=0.0.0.0:PORT)" ;; esac
svcpath=$(fact worker.SYNCQ_SERVICES)
[ -n "$svcpath" ] && fact worker.config_target | grep -qxF "$svcpath" || fail "no services file mounted at SYNCQ_SERVICES ($svcpath)"
fact image | while read -r name img; do
    tag=${img##*:}
    case "$img" in *:*) ;; *) fail "image of $name is not pinned: $img" ;; esac
    case "$tag" in latest | [!0-9v]* ) fail "image of $name has a floating tag: $img" ;; esac
done
[ -z "$(fact literal_secret)" ] || fail "credentials written into docker-compose.yml: $(fact literal_secret | tr '\n' ' ')"
for p in $(fact redis.port); do
    case "$p" in 127.0.0.1:*) ;; *) fail "Redis published beyond loopback: $p" ;; esac
done
[ -n "$(fact redis.port)" ] || fail "Redis is not published for host apps (127.0.0.1:6379:6379)"
grep -Eq '^FROM [^ ]+:[0-9]' "$DOCKERFILE" && ! grep -Eq '^FROM [^ :]+( |$)|^FROM [^ ]+:(latest|bookworm-slim)( |$)' "$DOCKERFILE" ||
    fail "Dockerfile base images must be pinned to a version"
grep -Eq '^HEALTHCHECK .*syncq.*healthcheck' "$DOCKERFILE" || fail "Dockerfile has no HEALTHCHECK through syncq healthcheck"

# 8. scripts/compose-secrets.sh writes every secret file the compose file mounts, consistently
sdir=$(mktemp -d)
trap 'rm -rf "$sdir"' EXIT
sh "$ROOT/scripts/compose-secrets.sh" "$sdir/secrets" >/dev/null
for f in $(fact secret_file) ./secrets/worker.env; do
    [ -s "$sdir/secrets/${f#./secrets/}" ] || fail "compose-secrets.sh does not write $f"
done
rp=$(cat "$sdir/secrets/redis_password")
grep -qx "requirepass $rp" "$sdir/secrets/redis.conf" || fail "redis.conf does not hold the Redis password"
grep -q ":$rp@redis:" "$sdir/secrets/redis_url" || fail "redis_url does not carry the Redis password"
grep -q ":$(cat "$sdir/secrets/pg_password")@postgres:" "$sdir/secrets/database_url" || fail "database_url does not carry the PostgreSQL password"
[ "$(stat -c %a "$sdir/secrets")" = 700 ] || fail "the secrets folder is not mode 700"

# 9. the runtime image installs the package of every library the binaries link directly
#    (their own dependencies come with them; libc6 is in every Debian image: essential
#    packages pre-depend on it)
runtime=$(awk '/^FROM/ { n++ } n == 2' "$DOCKERFILE")
for b in "$ROOT/bin/syncq" "$ROOT/bin/syncq-worker"; do
    [ -x "$b" ] || fail "$b is not built"
    for lib in $(readelf -d "$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        path=$(ldd "$b" | awk -v l="$lib" '$1 == l { print $3 }')
        case "$lib" in libasan* | libubsan*) continue ;; esac
        [ -n "$path" ] || fail "ldd cannot resolve $lib of $b"
        pkg=""
        for cand in "$path" "$(readlink -f "$path")" "/usr$path" "${path#/usr}"; do
            [ -n "$pkg" ] || pkg=$(dpkg -S "$cand" 2>/dev/null | head -1 | cut -d: -f1)
        done
        [ -n "$pkg" ] || fail "no Debian package owns $path"
        [ "$pkg" = libc6 ] || [ "$(dpkg-query -W -f='${Essential}' "$pkg")" = yes ] && continue
        printf '%s\n' "$runtime" | grep -qw -- "$pkg" || fail "$(basename "$b") needs $lib ($pkg), which the runtime image does not install"
    done
done

echo "ok compose"
