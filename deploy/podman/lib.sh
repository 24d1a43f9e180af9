# Shared settings of the deploy/podman scripts (sourced, not run).
# shellcheck shell=bash

PODMAN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$PODMAN_DIR/../.." && pwd)
export CONTAINERS_CONF="$PODMAN_DIR/containers.conf"

BASE_IMAGE=localhost/chat-base-jre:bookworm
IMAGE_PREFIX=localhost/company-chat
IMAGE_TAG=dev
# name and HTTP port of each module, in start order (the ports are the services' defaults; with
# host networking every container listens on the host directly)
SERVICES=(user-service auth-service chat-service gateway)
declare -A HTTP_PORT=([user-service]=8081 [auth-service]=8082 [chat-service]=8083 [gateway]=8080)
GATEWAY_MANAGEMENT_PORT=9000

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
