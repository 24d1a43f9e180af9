# Shared settings of the deploy/podman scripts (sourced, not run).
# shellcheck shell=bash

PODMAN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$PODMAN_DIR/../.." && pwd)
export CONTAINERS_CONF="$PODMAN_DIR/containers.conf"

BASE_IMAGE=localhost/chat-base-jre:bookworm
IMAGE_PREFIX=localhost/company-chat
IMAGE_TAG=dev
# the modules, the port each listens on in its image (the services' defaults), and the ports the
# podman run moves them to: with host networking they share the machine's ports with everything
# else, e.g. deploy/local/run.sh on 8080-8083 and 9000
SERVICES=(user-service auth-service chat-service gateway)
declare -A HTTP_PORT=([user-service]=8081 [auth-service]=8082 [chat-service]=8083 [gateway]=8080)
MANAGEMENT_PORT=9000
PLAY_PORT_OFFSET=${PLAY_PORT_OFFSET:-30000}
declare -A PLAY_PORT=()
for svc in "${SERVICES[@]}"; do PLAY_PORT[$svc]=$((HTTP_PORT[$svc] + PLAY_PORT_OFFSET)); done
PLAY_MANAGEMENT_PORT=$((MANAGEMENT_PORT + PLAY_PORT_OFFSET))

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }


# The packages the local container run needs, from Debian; apt-get update once, only if one is missing.
ensure_packages() {
  local missing=() pkg
  for pkg in podman buildah runc catatonit debootstrap uidmap; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}); run as root or install them"
  log "installing ${missing[*]} from Debian"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
