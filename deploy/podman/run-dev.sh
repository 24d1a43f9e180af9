#!/usr/bin/env bash
# Runs the dev overlay's workloads with `podman kube play` on this machine, against the local
# PostgreSQL, and tears everything down again.
#
#   deploy/podman/run-dev.sh                 run until Ctrl-C
#   deploy/podman/run-dev.sh <command...>    run, execute the command once all four are ready,
#                                            tear down, exit with the command's status
#                                            (e.g. deploy/podman/run-dev.sh deploy/podman/smoke-test.sh)
#
# Per run it makes a fresh database (dropped afterwards), a random INTERNAL_SERVICE_TOKEN and a new
# JWT signing key; they live in podman secrets and deploy/podman/.run/<run>/ only while it runs.
# What it plays is deploy/podman/kube (the dev overlay with host networking addresses) rendered by
# kubectl kustomize; podman skips the kinds it does not know (Service, Ingress, NetworkPolicy, PDB,
# HPA, Namespace). Needs root, the images from build-images.sh, kubectl, psql, openssl and curl.
# Environment: PGHOST PGPORT PGUSER PGPASSWORD (127.0.0.1 5432 postgres ""), READY_TIMEOUT (180 s),
# PLAY_PORT_OFFSET (30000: gateway on 38080, its management port 39000, services 38081-38083, their management
# ports (metrics) 39081-39083).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
export PGPASSWORD=${PGPASSWORD:-}
READY_TIMEOUT=${READY_TIMEOUT:-180}
KUBECTL=${KUBECTL:-kubectl}

[ "$(id -u)" = 0 ] || die "run as root (rootful podman)"
for tool in podman "$KUBECTL" psql openssl curl; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (podman: run deploy/podman/build-images.sh first)"
done
for svc in "${SERVICES[@]}"; do
  podman image exists "$IMAGE_PREFIX/$svc:$IMAGE_TAG" || die "image $IMAGE_PREFIX/$svc:$IMAGE_TAG is missing: run deploy/podman/build-images.sh"
done
for port in "${PLAY_PORT[@]}" "$PLAY_MANAGEMENT_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port is in use (the containers share the host's network): stop what listens there or set PLAY_PORT_OFFSET (now $PLAY_PORT_OFFSET)"
  fi
done

RUN_ID="r$(date +%Y%m%d%H%M%S)$$"
RUN_DIR="$PODMAN_DIR/.run/$RUN_ID"
LOG_DIR="$PODMAN_DIR/.run/logs"
DATABASE="chat_podman_$RUN_ID"
SECRETS=(company-chat-db company-chat-internal-token)
PLAYED=0
DB_CREATED=0

# the names podman gives a Deployment's (first) pod and its container
pod_of() { echo "$1-pod-0"; }
container_of() { echo "$1-pod-0-$1"; }

psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres "$@"; }

teardown() {
  local rc=$? stop_start=$SECONDS
  trap '' INT TERM
  if [ "$PLAYED" = 1 ]; then
    mkdir -p "$LOG_DIR"
    for svc in "${SERVICES[@]}"; do
      podman logs "$(container_of "$svc")" >"$LOG_DIR/$svc.log" 2>&1 || true
    done
    log "stopping the pods (logs kept in ${LOG_DIR#"$ROOT"/})"
    podman kube down "$RUN_DIR/play.yaml" >/dev/null 2>&1 || true
    for svc in "${SERVICES[@]}"; do # what kube down left, e.g. after a failed play
      ! podman pod exists "$(pod_of "$svc")" || podman pod rm -f "$(pod_of "$svc")" >/dev/null 2>&1 || true
    done
  fi
  for s in "${SECRETS[@]}"; do podman secret rm "$s" >/dev/null 2>&1 || true; done
  if [ "$DB_CREATED" = 1 ]; then
    psql_admin -c "DROP DATABASE IF EXISTS \"$DATABASE\" WITH (FORCE)" >/dev/null 2>&1 || log "warning: could not drop database $DATABASE"
  fi
  rm -rf "$RUN_DIR"
  [ "$PLAYED" = 0 ] || log "torn down in $((SECONDS - stop_start)) s"
  exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ database, secrets, key

psql_admin -c 'SELECT 1' >/dev/null 2>&1 || die "no PostgreSQL answers at $PGHOST:$PGPORT as $PGUSER (set PGHOST, PGPORT, PGUSER, PGPASSWORD)"
psql_admin -c "CREATE DATABASE \"$DATABASE\""
DB_CREATED=1
log "database: $DATABASE on $PGHOST:$PGPORT (fresh, dropped at the end)"

mkdir -p "$RUN_DIR/signing-key" "$RUN_DIR/verification-keys"
chmod 700 "$RUN_DIR"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$RUN_DIR/signing-key/signing-key.pem" 2>/dev/null
# the containers run as uid 185; the key stays unreadable for everyone else
chown -R 185:185 "$RUN_DIR/signing-key" "$RUN_DIR/verification-keys"
chmod 500 "$RUN_DIR/signing-key" "$RUN_DIR/verification-keys"
chmod 400 "$RUN_DIR/signing-key/signing-key.pem"

# podman 4.3 takes a secretKeyRef's value from the podman secret of that name, which must hold
# a JSON object of base64 values (the "data" of a Kubernetes Secret, not the whole object)
secret_file() { # key value
  printf '{"%s":"%s"}' "$1" "$(printf %s "$2" | base64 -w0)"
}
for s in "${SECRETS[@]}"; do podman secret rm "$s" >/dev/null 2>&1 || true; done
secret_file password "$PGPASSWORD" | podman secret create company-chat-db - >/dev/null
secret_file token "$(openssl rand -hex 32)" | podman secret create company-chat-internal-token - >/dev/null

# ------------------------------------------------------------------ render and play

# This run's ports and addresses, its database, and the key directories from the host: podman
# 4.3 cannot mount a Secret as a volume (kube play panics), and mounts nothing for an absent
# optional ConfigMap where Kubernetes mounts an empty directory (no earlier keys to publish).
u=${PLAY_PORT[user-service]} a=${PLAY_PORT[auth-service]} c=${PLAY_PORT[chat-service]} g=${PLAY_PORT[gateway]}
m=$PLAY_MANAGEMENT_PORT
cat >"$RUN_DIR/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../kube
configMapGenerator:
  - name: company-chat-database
    behavior: merge
    literals: [PGHOST=$PGHOST, PGPORT=$PGPORT, PGDATABASE=$DATABASE, PGUSER=$PGUSER]
  - name: company-chat-config
    behavior: merge
    literals:
      - USER_SERVICE_URL=http://127.0.0.1:$u
      - AUTH_SERVICE_URL=http://127.0.0.1:$a
      - CHAT_SERVICE_URL=http://127.0.0.1:$c
  - {name: user-service-config, behavior: merge, literals: [QUARKUS_HTTP_PORT=$u, QUARKUS_MANAGEMENT_PORT=$((u + 1000))]}
  - {name: auth-service-config, behavior: merge, literals: [QUARKUS_HTTP_PORT=$a, QUARKUS_MANAGEMENT_PORT=$((a + 1000))]}
  - {name: chat-service-config, behavior: merge, literals: [QUARKUS_HTTP_PORT=$c, QUARKUS_MANAGEMENT_PORT=$((c + 1000))]}
  - {name: gateway-config, behavior: merge, literals: [QUARKUS_HTTP_PORT=$g, QUARKUS_MANAGEMENT_PORT=$m]}
patches:
  - patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: auth-service
      spec:
        template:
          spec:
            volumes:
              - name: signing-key
                secret: null
                hostPath:
                  path: $RUN_DIR/signing-key
                  type: Directory
              - name: verification-keys
                configMap: null
                hostPath:
                  path: $RUN_DIR/verification-keys
                  type: Directory
EOF
"$KUBECTL" kustomize "$RUN_DIR" >"$RUN_DIR/play.yaml"

start=$SECONDS
log "podman kube play (dev overlay: ${SERVICES[*]})"
PLAYED=1
podman kube play "$RUN_DIR/play.yaml" >"$RUN_DIR/play.log" 2>&1 || { cat "$RUN_DIR/play.log" >&2; die "podman kube play failed"; }

# ------------------------------------------------------------------ wait until ready

http_status() { curl -s -o /dev/null -m 2 -w '%{http_code}' "$1" 2>/dev/null || true; }
health_url() {
  if [ "$1" = gateway ]; then echo "http://127.0.0.1:$PLAY_MANAGEMENT_PORT/q/health/ready"
  else echo "http://127.0.0.1:${PLAY_PORT[$1]}/q/health/ready"; fi
}

declare -A READY=()
deadline=$((SECONDS + READY_TIMEOUT))
while [ "${#READY[@]}" -lt "${#SERVICES[@]}" ]; do
  for svc in "${SERVICES[@]}"; do
    [ -n "${READY[$svc]:-}" ] && continue
    state=$(podman inspect --format '{{.State.Status}}' "$(container_of "$svc")" 2>/dev/null || echo missing)
    if [ "$state" != running ]; then
      podman logs --tail 30 "$(container_of "$svc")" >&2 2>&1 || true
      die "$svc is $state (its last log lines are above)"
    fi
    if [ "$(http_status "$(health_url "$svc")")" = 200 ]; then
      READY[$svc]=$((SECONDS - start))
      log "ready: $svc after ${READY[$svc]} s"
    fi
  done
  [ "${#READY[@]}" -lt "${#SERVICES[@]}" ] || break
  if [ "$SECONDS" -ge "$deadline" ]; then
    for svc in "${SERVICES[@]}"; do
      [ -n "${READY[$svc]:-}" ] && continue
      podman logs --tail 30 "$(container_of "$svc")" >&2 2>&1 || true
      die "$svc not ready after $READY_TIMEOUT s (its last log lines are above)"
    done
  fi
  sleep 1
done
# what a command (the smoke test) needs to know
export GATEWAY_URL="http://127.0.0.1:${PLAY_PORT[gateway]}"
export GATEWAY_MANAGEMENT_URL="http://127.0.0.1:$PLAY_MANAGEMENT_PORT"
export USER_SERVICE_URL="http://127.0.0.1:${PLAY_PORT[user-service]}"
log "all ready in $((SECONDS - start)) s: gateway $GATEWAY_URL"
podman stats --no-stream --format '{{.Name}} {{.MemUsage}}' 2>/dev/null \
  | grep -E -- '-pod-' | sed 's/^/  memory: /' || true

if [ "$#" -gt 0 ]; then
  status=0
  "$@" || status=$?
  exit "$status"
fi
log "press Ctrl-C to stop"
while :; do sleep 1; done
