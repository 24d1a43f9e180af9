# Shared by the chat-service benchmarks; sourced, after setting `bench` to this directory:
#   bench=$(cd "$(dirname "$0")" && pwd); . "$bench/bench-lib.sh"
# Gives: module/root/jar/work paths, the libpq settings, and
#   ensure_jar                       build the packaged service if missing or older than its sources,
#                                    then copy it to $work/quarkus-app (a rebuild meanwhile cannot
#                                    pull the jars from under the running service)
#   create_db <db>                   drop and create <db> with common's migrations (Flyway stays off);
#                                    BENCH_SEARCH_INDEX=off then drops the search column and its index
#                                    (messages as before V6: search-bench.sh's baseline of writes)
#   psql_db <db> [psql args]         psql on <db>, stopping at the first error
#   make_keys                        $work/signing-key.der and $work/jwks.json (HistoryBench.java keys)
#   load_conversations_data <db>    conversations-data.sql (user 1 in 500 conversations, 1,000,000
#                                    messages) into <db>, unless it holds them already (BENCH_RELOAD=1)
#   start_service <db> <port> [jvm options]   that copy against <db>; sets service_pid
#   stop_service                     stops it (a bench may start another one after)
# and a trap that stops the service and removes $work on exit.

module=$(dirname "$bench")
root=$(dirname "$module")
jar=$module/target/quarkus-app/quarkus-run.jar
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
work=$(mktemp -d -t chat-bench.XXXXXX)
service_pid=

stop_service() {
  if [ -n "$service_pid" ]; then
    kill "$service_pid" 2>/dev/null || true
    wait "$service_pid" 2>/dev/null || true
    service_pid=
  fi
}

bench_cleanup() {
  stop_service
  rm -rf "$work"
}
trap bench_cleanup EXIT

psql_db() {
  local db=$1
  shift
  psql -X -v ON_ERROR_STOP=1 -q -d "$db" "$@"
}

# BENCH_NO_BUILD=1 runs a stale jar as it is (with a warning) rather than rebuilding it.
ensure_jar() {
  local reason=
  if [ ! -f "$jar" ]; then
    reason="missing"
  elif [ -n "$(find "$module/src/main" "$module/pom.xml" "$root/common/src/main" -newer "$jar" -type f -print -quit)" ]; then
    reason="older than its sources"
  fi
  if [ -n "$reason" ] && [ "${BENCH_NO_BUILD:-0}" = 1 ] && [ -f "$jar" ]; then
    echo "bench: WARNING: $jar is $reason (BENCH_NO_BUILD=1: running it anyway)" >&2
  elif [ -n "$reason" ]; then
    echo "bench: packaging chat-service ($jar $reason)"
    (cd "$root" && ./mvnw -B -q package -pl chat-service -am -DskipTests)
  fi
  cp -r "$(dirname "$jar")" "$work/quarkus-app"
}

latest_migration() {
  basename "$(ls "$root"/common/src/main/resources/db/migration/V*__*.sql | sort -V | tail -1)"
}

create_db() {
  local db=$1 migration
  psql -X -v ON_ERROR_STOP=1 -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  # The service's own migrations, in version order (the service runs with Flyway off here).
  for migration in $(ls "$root"/common/src/main/resources/db/migration/V*__*.sql | sort -V); do
    psql_db "$db" -f "$migration"
  done
  # Which schema the data has: load_conversations_data reloads when a newer migration came.
  psql_db postgres -c "COMMENT ON DATABASE $db IS '$(latest_migration)'"
  if [ "${BENCH_SEARCH_INDEX:-on}" = off ]; then
    echo "bench: BENCH_SEARCH_INDEX=off: no search column nor index on messages in $db"
    psql_db "$db" -c "DROP INDEX messages_search_idx" -c "ALTER TABLE messages DROP COLUMN search"
  fi
}

# The data of explain.sh and read-bench.sh, loaded once (~1 minute) and reused while it is whole and its
# schema is the newest migration's.
load_conversations_data() {
  local db=$1 loaded
  loaded=$(psql -X -tA -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'")
  if [ "${BENCH_RELOAD:-0}" = 1 ] || [ "$loaded" != 1 ] \
      || [ "$(psql_db "$db" -tA -c "SELECT count(*) FROM messages" 2>/dev/null || echo 0)" != 1000000 ] \
      || [ "$(psql -X -tA -d postgres -c "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$db'")" \
           != "$(latest_migration)" ]; then
    echo "bench: creating database $db and loading conversations-data.sql"
    create_db "$db"
    psql_db "$db" -f "$bench/conversations-data.sql"
    psql_db "$db" -c "VACUUM ANALYZE"
  fi
}

# shellcheck source=../../deploy/local/jvm-options.sh
. "$bench/../../deploy/local/jvm-options.sh"

make_keys() {
  java "$bench/HistoryBench.java" keys "$work"
}

# Nothing answers on AUTH_SERVICE_URL's port 9 (discard): the revocation list stays empty (the
# service retries its load in the background, logging a warning) and no other running service is
# asked anything. So the service never turns ready (it is not, until it knows every revoked token):
# the bench waits for it to be live.
start_service() {
  local db=$1 port=$2
  shift 2
  # Without options of its own, the service runs with its Deployment's JVM options, as in the local run.
  # shellcheck disable=SC2046  # one option per word
  [ $# -gt 0 ] || set -- $(jvm_options chat-service)
  echo "bench: starting $jar (built $(date -r "$jar" '+%F %T')) on port $port${*:+ with $*}"
  QUARKUS_HTTP_PORT=$port QUARKUS_MANAGEMENT_PORT=$((port + 1000)) PGDATABASE=$db QUARKUS_FLYWAY_MIGRATE_AT_START=false \
    MP_JWT_VERIFY_PUBLICKEY_LOCATION="file:$work/jwks.json" INTERNAL_SERVICE_TOKEN=bench-only \
    AUTH_SERVICE_URL=${BENCH_AUTH_SERVICE_URL:-http://127.0.0.1:9} \
    java "$@" -jar "$work/quarkus-app/quarkus-run.jar" > "$work/service.log" 2>&1 &
  service_pid=$!
  for _ in $(seq 1 120); do
    if curl -fs "http://127.0.0.1:$port/q/health/live" > /dev/null 2>&1; then
      return
    fi
    if ! kill -0 "$service_pid" 2>/dev/null; then
      break
    fi
    sleep 0.5
  done
  cat "$work/service.log"
  echo "bench: the service did not start" >&2
  exit 1
}
