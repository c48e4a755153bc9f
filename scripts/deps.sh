#!/bin/sh
# deps.sh - install the Debian/Ubuntu packages syncq needs, if any are missing.
#
#   sh scripts/deps.sh              build + test + run set (what `make test` / `make run` need)
#   sh scripts/deps.sh build        only what `make all` needs (used by the Dockerfile)
#   sh scripts/deps.sh --list [SET] print the package names of SET (all|build), one per line
#
# A no-op (one dpkg-query call) when everything is installed: `make test` runs it every time.
# SYNCQ_SKIP_DEPS=1 skips the check (for systems without dpkg where the tools are installed by hand).
set -eu

# Compiler, pkg-config and the -dev packages of the libraries in the Makefile's PKGS.
BUILD_PKGS="build-essential pkg-config libhiredis-dev libcurl4-openssl-dev libcjson-dev libpq-dev"
# libcrypto (common/crypto.c: HMAC signing, the sealed OAuth2 token cache); libcurl links it already.
BUILD_PKGS="$BUILD_PKGS libssl-dev"
# libmicrohttpd and libcrypt (producer/web*.c: `syncq web`, the console's server and password hashes).
BUILD_PKGS="$BUILD_PKGS libmicrohttpd-dev libcrypt-dev"
# Unit tests (cmocka), the private servers of the test harness / demo / benchmark,
# and python3-yaml for tests/it/compose_test.sh.
TEST_PKGS="libcmocka-dev redis-server postgresql postgresql-contrib python3-yaml php-cli php-redis python3-redis"
# the lease partition test (tests/it/it_lease_partition.sh): ip netns, veth, iptables
TEST_PKGS="$TEST_PKGS iproute2 iptables"
# The interpreters of the exec handler examples (examples/handlers/, tests/it/it_exec*.sh).
TEST_PKGS="$TEST_PKGS python3 nodejs"
# promtool, which checks /metrics in tests/it/it_metrics.sh, comes with the prometheus package.
TEST_PKGS="$TEST_PKGS prometheus"
# make fuzz (run by make test): clang with libFuzzer and the sanitizer runtimes.
TEST_PKGS="$TEST_PKGS clang-14 libclang-rt-14-dev"
# The producer packages' own suites and type check (clients/php, clients/python) in tests/it/it_clients.sh.
TEST_PKGS="$TEST_PKGS phpunit python3-pytest mypy"
# A worker whose host clock is wrong (tests/it/it_clock.sh preloads libfaketime).
TEST_PKGS="$TEST_PKGS faketime"
# chromium: the web console's browser test (tests/it/it_web_browser.sh, with playwright-core from npm)
TEST_PKGS="$TEST_PKGS chromium"
# Production Redis (tests/it/it_tls.sh, it_sentinel.sh): the TLS sidecar, certificates, Sentinel.
TEST_PKGS="$TEST_PKGS stunnel4 openssl redis-sentinel"
# Certificates made by tests/it/it_auth_tls.sh (a CA, a server and a client certificate).
TEST_PKGS="$TEST_PKGS openssl"
# A child's conversation with Redis, syscall by syscall (tests/it/it_round_trips.sh).
TEST_PKGS="$TEST_PKGS strace"

usage() {
    echo "usage: sh scripts/deps.sh [all|build] | --list [all|build]" >&2
    exit 64
}

set_pkgs() {
    case "${1:-all}" in
        all) PKGS="$BUILD_PKGS $TEST_PKGS" ;;
        build) PKGS="$BUILD_PKGS" ;;
        *) usage ;;
    esac
}

if [ "${1:-}" = "--list" ]; then
    set_pkgs "${2:-all}"
    for p in $PKGS; do echo "$p"; done
    exit 0
fi
[ $# -le 1 ] || usage
set_pkgs "${1:-all}"

if [ "${SYNCQ_SKIP_DEPS:-0}" = "1" ]; then
    exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "deps.sh: this system has no dpkg/apt-get; syncq's scripts install packages on Debian/Ubuntu only." >&2
    echo "deps.sh: install the equivalents of these Debian packages by hand:" >&2
    echo "deps.sh:   $PKGS" >&2
    echo "deps.sh: (redis-server 7+ and PostgreSQL 13+ with pg_config on PATH), then set SYNCQ_SKIP_DEPS=1." >&2
    exit 1
fi

# One dpkg-query for all of them; unknown packages print nothing on stdout.
# shellcheck disable=SC2086  # $PKGS is a word list on purpose
installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' $PKGS 2>/dev/null || true)
missing=""
for p in $PKGS; do
    if ! printf '%s\n' "$installed" | grep -q "^$p ii"; then
        missing="$missing $p"
    fi
done
[ -n "$missing" ] || exit 0

echo "deps.sh: installing missing packages:$missing" >&2
if [ "$(id -u)" = "0" ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "deps.sh: not root and no sudo; as root run: apt-get update && apt-get install$missing" >&2
    exit 1
fi

# sudo resets the environment, so pass DEBIAN_FRONTEND through env(1).
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get -qq update
# shellcheck disable=SC2086  # $missing is a word list on purpose
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get -qq -y --no-install-recommends \
    -o Dpkg::Use-Pty=0 install $missing >/dev/null

# Check again: a package that apt could not find must not pass silently.
# shellcheck disable=SC2086
installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' $PKGS 2>/dev/null || true)
for p in $missing; do
    if ! printf '%s\n' "$installed" | grep -q "^$p ii"; then
        echo "deps.sh: $p is still not installed" >&2
        exit 1
    fi
done
echo "deps.sh: done" >&2
