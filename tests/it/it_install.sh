#!/bin/bash
# make install into a DESTDIR: the layout (binaries, static and shared library
# with a soname, headers (syncq.h, the plugin ABI syncq/handler.h, which the
# example plugin builds against), pkg-config file, schema, man pages, systemd unit and
# sysusers entry); the libraries show only the public syncq_* names (an
# application defining its own json_parse/log_msg still links statically);
# pkg-config asks for no libpq; the C example builds against the installed
# pkg-config file, both ways, and its job runs; the unit passes
# systemd-analyze verify; the man pages render without warnings.
. "$(dirname "$0")/../lib.sh"

D="$W/destdir"
san=""
[ "${SANITIZE:-0}" = 1 ] && san="-fsanitize=address,undefined" && mk="SANITIZE=1" || mk=""
make --no-print-directory -s install DESTDIR="$D" PREFIX=/usr/local $mk > "$W/install.log" 2>&1 ||
    fail "make install: $(tail -5 "$W/install.log")"
P="$D/usr/local"
for f in bin/syncq bin/syncq-worker lib/libsyncq.a lib/libsyncq.so lib/libsyncq.so.0 include/syncq.h include/syncq/handler.h \
    lib/pkgconfig/syncq.pc share/syncq/schema/001_init.sql share/man/man1/syncq.1 share/man/man5/syncq-services.5 \
    share/man/man8/syncq-worker.8 lib/systemd/system/syncq-worker.service lib/sysusers.d/syncq.conf \
    share/syncq/functions.lua; do
    [ -e "$P/$f" ] || fail "not installed: $f"
done

# the shared library: a soname, and nothing but the public API exported
readelf -d "$P/lib/libsyncq.so" | grep -q 'SONAME.*\[libsyncq\.so\.0\]' || fail "no soname libsyncq.so.0"
exported=$(nm -D --defined-only "$P/lib/libsyncq.so" | awk '$2 ~ /^[TDBR]$/ {print $3}' | sed 's/@.*//' | sort -u)
[ -n "$exported" ] || fail "the shared library exports nothing"
others=$(printf '%s\n' "$exported" | grep -v '^syncq_' || true)
[ -z "$others" ] || fail "shared library exports internal names: $(echo $others | head -c 300)"
assert_eq "$(printf '%s\n' "$exported" | sort)" "$(sort common/libsyncq.sym)" "exported names = common/libsyncq.sym"
# the static one: every global it defines is public
sglobals=$(nm -g --defined-only "$P/lib/libsyncq.a" | awk 'NF == 3 {print $3}' | sort -u)
sothers=$(printf '%s\n' "$sglobals" | grep -v '^syncq_' || true)
[ -z "$sothers" ] || fail "static library defines internal globals: $(echo $sothers | head -c 300)"

# pkg-config, through the DESTDIR as a packager's sysroot
export PKG_CONFIG_PATH="$P/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$D"
assert_eq "$(pkg-config --modversion syncq)" "$(sed -n 's/^VERSION := //p' Makefile)" "pkg-config version"
case "$(pkg-config --libs --static syncq)" in *pq*) fail "pkg-config asks for libpq: $(pkg-config --libs --static syncq)" ;; esac

# the plugin header: the example plugin builds against the installed one alone
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -shared -fPIC $(pkg-config --cflags syncq) examples/plugins/hello.c -lcjson \
    -o "$W/hello.so" 2> "$W/plugin_cc.log" ||
    fail "the example plugin against the installed syncq/handler.h: $(head -5 "$W/plugin_cc.log")"
cmp -s include/syncq/handler.h "$P/include/syncq/handler.h" || fail "the installed syncq/handler.h differs from include/"
echo "ok: the example plugin builds against the installed syncq/handler.h"

# dynamic: the example against the installed header and libsyncq.so
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror $san examples/enqueue.c $(pkg-config --cflags --libs syncq) -o "$W/enq_dyn"
readelf -d "$W/enq_dyn" | grep -q 'NEEDED.*libsyncq\.so\.0' || fail "the example does not link libsyncq.so.0"
# static, next to an application that defines names libsyncq uses inside
printf 'int json_parse(void) { return 1; }\nint log_msg(void) { return 2; }\nint keys_queue(void) { return 3; }\n' > "$W/app.c"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra $san examples/enqueue.c "$W/app.c" $(pkg-config --cflags syncq) "$P/lib/libsyncq.a" \
    $(pkg-config --libs --static syncq | sed 's/-lsyncq//') -o "$W/enq_static" || fail "static link next to colliding names"

start_worker -c 1 -q urgent
id1=$(LD_LIBRARY_PATH="$P/lib" "$W/enq_dyn" '{"kind":"mutation","service":"syncq","action":"noop","actor":"dyn"}')
id2=$("$W/enq_static" '{"kind":"mutation","service":"syncq","action":"noop","actor":"static"}')
both_done() { [ "$(count "job_id IN ('$id1', '$id2') AND status = 'success'")" = 2 ]; }
wait_for 20 "both jobs enqueued by the installed library" both_done
stop_worker

# the systemd unit (ExecStart pointed at the DESTDIR binary for the check)
unit="$W/syncq-worker.service"
sed "s|^ExecStart=.*|ExecStart=$P/bin/syncq-worker|" "$P/lib/systemd/system/syncq-worker.service" > "$unit"
grep -q '^Type=notify' "$unit" || fail "unit is not Type=notify"
grep -q '^KillMode=mixed' "$unit" || fail "unit lacks KillMode=mixed"
stop_s=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' "$unit")
grace=$(bin/syncq-worker --help | sed -n 's/.*SYNCQ_GRACE, default \([0-9]*\).*/\1/p')
[ -n "$stop_s" ] && [ -n "$grace" ] && [ "$stop_s" -gt "$grace" ] || fail "TimeoutStopSec ($stop_s) not above the grace ($grace)"
systemd-analyze verify --man=no "$unit" > "$W/verify.log" 2>&1 || fail "systemd-analyze verify: $(cat "$W/verify.log")"

# man pages render cleanly
for m in "$P"/share/man/man*/*; do
    out=$(LC_ALL=C.UTF-8 MANWIDTH=100 man --warnings -l "$m" 2>&1 >/dev/null)
    [ -z "$out" ] || fail "man $(basename "$m"): $out"
    LC_ALL=C.UTF-8 man -l "$m" 2>/dev/null | grep -q 'NAME' || fail "man $(basename "$m") renders nothing"
done
echo "install ok"
