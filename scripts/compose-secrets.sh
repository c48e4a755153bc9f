#!/bin/sh
# compose-secrets.sh - write the secrets docker-compose.yml mounts, with random
# passwords, into DIR (default ./secrets). The directory is mode 700 (only you
# on the host); the files are 644 because compose bind-mounts each file alone,
# and the container users (redis, postgres, syncq) must read them. Existing
# files are kept (rerunning never changes a password under a running deployment).
#
#   sh scripts/compose-secrets.sh [DIR]
set -eu
dir=${1:-secrets}
umask 077
mkdir -p "$dir"
rand() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }

[ -s "$dir/redis_password" ] || rand > "$dir/redis_password"
[ -s "$dir/pg_password" ] || rand > "$dir/pg_password"
rp=$(cat "$dir/redis_password")
pp=$(cat "$dir/pg_password")
[ -s "$dir/redis.conf" ] || printf 'requirepass %s\n' "$rp" > "$dir/redis.conf"
[ -s "$dir/redis_url" ] || printf 'redis://:%s@redis:6379/0\n' "$rp" > "$dir/redis_url"
[ -s "$dir/database_url" ] || printf 'postgresql://syncq:%s@postgres:5432/syncq\n' "$pp" > "$dir/database_url"
[ -s "$dir/worker.env" ] || printf '%s\n' '# ${VAR} values of the services file' 'DNS_TOKEN=change-me' 'DNS_ACCOUNT=change-me' \
    > "$dir/worker.env"
chmod 700 "$dir"
chmod 644 "$dir"/redis_password "$dir"/pg_password "$dir"/redis.conf "$dir"/redis_url "$dir"/database_url "$dir"/worker.env
echo "secrets in $dir/ (redis_password, pg_password, redis.conf, redis_url, database_url, worker.env)"
