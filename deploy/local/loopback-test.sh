#!/usr/bin/env bash
# Test of the local run's exposure: starts deploy/local/run.sh (on a database of its own), then checks
# that every port it opens (the three services, the gateway, the gateway's health port) listens on
# loopback only and refuses a connection to this machine's other addresses, that the gateway answers
# on 127.0.0.1 and that the mail page (generated passwords) answers there. Stops the run and drops its
# database afterwards. Needs the jars (run.sh builds them if missing), ss and curl.
# Prints one line per check and "N passed, N failed"; exits non-zero on any failure.
#   deploy/local/loopback-test.sh            # RUN_SH=path/to/run.sh to test another copy
set -uo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RUN_SH="${RUN_SH:-$SCRIPT_DIR/run.sh}"
# the services, the gateway, the management ports (metrics: HTTP port + 1000; the gateway's own)
PORTS=(8081 8082 8083 8080 9081 9082 9083 "${GATEWAY_MANAGEMENT_PORT:-9000}")
export PGDATABASE="chat_loopback_test_$$"
export READY_TIMEOUT="${READY_TIMEOUT:-240}"
unset GATEWAY_HOST QUARKUS_MAILER_HOST
OUT=$(mktemp)
passed=0
failed=0

report() { # ok|fail, line
  if [ "$1" = ok ]; then passed=$((passed + 1)); echo "PASS $2"; else failed=$((failed + 1)); echo "FAIL $2"; fi
}

for tool in ss curl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "loopback-test: $tool is required" >&2; exit 2; }
done
others=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -v -e '^127\.' -e '^::1$' -e '^fe80' -e '^$' || true)
[ -n "$others" ] || { echo "loopback-test: this machine has no address besides loopback to try from" >&2; exit 2; }

"$RUN_SH" >"$OUT" 2>&1 &
run_pid=$!
stop_run() {
  if kill -0 "$run_pid" 2>/dev/null; then
    kill -TERM "$run_pid" 2>/dev/null
    wait "$run_pid" 2>/dev/null
  fi
  psql -X -q -h "${PGHOST:-127.0.0.1}" -p "${PGPORT:-5432}" -U "${PGUSER:-postgres}" -d postgres \
    -c "DROP DATABASE IF EXISTS $PGDATABASE WITH (FORCE)" >/dev/null 2>&1 || true
  rm -f "$OUT"
}
trap stop_run EXIT

deadline=$((SECONDS + READY_TIMEOUT + 60))
until grep -q '^company chat is running' "$OUT"; do
  if ! kill -0 "$run_pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
    cat "$OUT"
    report fail "the local run starts"
    echo "$passed passed, $failed failed"
    exit 1
  fi
  sleep 1
done
report ok "the local run starts ($(grep '^company chat is running' "$OUT"))"

for port in "${PORTS[@]}"; do
  listening=$(ss -Hltn "sport = :$port" | awk '{print $4}' | sed 's/:[0-9]*$//' | sort -u | tr '\n' ' ')
  wide=$(printf '%s\n' $listening | grep -v -x -e '127.0.0.1' -e '\[::1\]' -e '\[::ffff:127.0.0.1\]' || true)
  if [ -n "$listening" ] && [ -z "$wide" ]; then
    report ok "port $port listens on loopback only ($listening)"
  else
    report fail "port $port listens on loopback only: listening on '${listening}'"
  fi
  for address in $others; do
    host=$address
    [[ "$address" == *:* ]] && host="[$address]"
    if curl -s -o /dev/null -m 3 "http://$host:$port/" 2>/dev/null; then
      report fail "port $port refuses connections to $address"
    else
      report ok "port $port refuses connections to $address"
    fi
  done
done

status=$(curl -s -o /dev/null -w '%{http_code}' -m 5 http://127.0.0.1:8080/api/users)
[ "$status" = 401 ] && report ok "the gateway answers on 127.0.0.1 (GET /api/users: 401)" \
  || report fail "the gateway answers on 127.0.0.1: GET /api/users gave $status"
status=$(curl -s -o /dev/null -w '%{http_code}' -m 5 http://127.0.0.1:8081/dev/sent-mails)
[ "$status" = 200 ] && report ok "the mail page answers on 127.0.0.1" \
  || report fail "the mail page answers on 127.0.0.1: $status"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
