#!/usr/bin/env bash
# Makes sure the services the tests talk to answer: PostgreSQL on 127.0.0.1:5432 and
# Redis on 127.0.0.1:6379. Starts one that is installed but down; fails loudly when one
# cannot be reached.
set -euo pipefail

log() { printf '==> %s\n' "$*"; }
fail() { printf 'error: %s\n' "$*" >&2; exit 1; }

wait_for() {
  local what=$1 check=$2
  for _ in $(seq 1 30); do
    if $check; then return 0; fi
    sleep 1
  done
  fail "$what does not answer"
}

postgres_up() { pg_isready -q -h 127.0.0.1 -p 5432; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }

if ! postgres_up; then
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start ||
    fail "PostgreSQL is down and could not be started"
  wait_for "PostgreSQL on 127.0.0.1:5432" postgres_up
fi

if ! redis_up; then
  log "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log ||
    fail "Redis is down and could not be started"
  wait_for "Redis on 127.0.0.1:6379" redis_up
fi

log "PostgreSQL and Redis answer"
