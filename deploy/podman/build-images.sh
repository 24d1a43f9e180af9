#!/usr/bin/env bash
# Builds the JVM images of the four modules without a Docker engine or a registry:
#   1. installs podman, buildah, runc, catatonit, debootstrap from Debian if missing (root);
#   2. makes the base image localhost/chat-base-jre:bookworm once (debootstrap minbase +
#      openjdk-17-jre-headless + user 185) and keeps it in podman's store for later runs;
#   3. builds localhost/company-chat/<module>:dev from <module>/target/quarkus-app/ with
#      deploy/containers/Dockerfile.jvm-local.
# The jars must be packaged first (./mvnw -B package -DskipTests); this script does not run Maven.
# Usage: deploy/podman/build-images.sh [--rebuild-base]
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REBUILD_BASE=0
for arg in "$@"; do
  case "$arg" in
    --rebuild-base) REBUILD_BASE=1 ;;
    *) die "unknown argument: $arg (usage: build-images.sh [--rebuild-base])" ;;
  esac
done

DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

BASE_DIR=""
remove_base_dir() {
  [ -n "$BASE_DIR" ] || return 0
  umount "$BASE_DIR/proc" 2>/dev/null || true
  rm -rf "$BASE_DIR"
}
trap remove_base_dir EXIT

build_base() {
  local dir build_log=/var/tmp/chat-base-jre.log
  BASE_DIR=$(mktemp -d /var/tmp/chat-base-jre.XXXXXX)
  dir=$BASE_DIR
  chmod 755 "$dir" # apt inside the chroot downloads as the user _apt
  log "base: debootstrap --variant=minbase bookworm (from $DEBIAN_MIRROR)"
  debootstrap --variant=minbase bookworm "$dir" "$DEBIAN_MIRROR" >"$build_log" 2>&1 \
    || { tail -n 20 "$build_log" >&2; die "debootstrap failed (full log: $build_log)"; }
  log "base: installing openjdk-17-jre-headless"
  mount -t proc proc "$dir/proc" # the JRE's postinst runs java (cacerts), which needs /proc
  chroot "$dir" /bin/sh -ec '
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null
    apt-get clean
    groupadd --gid 185 app
    useradd --uid 185 --gid 185 --home-dir /deployments --no-create-home --shell /usr/sbin/nologin app
    mkdir -p /deployments && chown 185:185 /deployments
    rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/* /usr/share/doc/* /usr/share/man/* /usr/share/info/*
  ' >>"$build_log" 2>&1 || { tail -n 20 "$build_log" >&2; die "installing the JRE failed (full log: $build_log)"; }
  umount "$dir/proc"
  log "base: importing as $BASE_IMAGE"
  tar --numeric-owner -C "$dir" -c . | podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64' \
    --change 'USER 185' \
    --change 'WORKDIR /deployments' \
    --message 'Debian bookworm minbase + openjdk-17-jre-headless, user 185' \
    - "$BASE_IMAGE" >/dev/null
  remove_base_dir
  BASE_DIR=""
}

[ "$(id -u)" = 0 ] || die "run as root: the images are built with rootful podman and debootstrap"
ensure_packages

for svc in "${SERVICES[@]}"; do
  [ -f "$ROOT/$svc/target/quarkus-app/quarkus-run.jar" ] \
    || die "$svc/target/quarkus-app/quarkus-run.jar is missing: package first (./mvnw -B package -DskipTests)"
done

if [ "$REBUILD_BASE" = 1 ] || ! podman image exists "$BASE_IMAGE"; then
  start=$SECONDS
  build_base
  log "base: $BASE_IMAGE made in $((SECONDS - start)) s ($(podman image inspect --format '{{.Size}}' "$BASE_IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"
else
  log "base: $BASE_IMAGE exists (cached; --rebuild-base to make it again)"
fi

for svc in "${SERVICES[@]}"; do
  start=$SECONDS
  podman build --quiet \
    -f "$ROOT/deploy/containers/Dockerfile.jvm-local" \
    --ignorefile "$ROOT/deploy/containers/Dockerfile.jvm-local.dockerignore" \
    --build-arg SERVICE="$svc" --build-arg HTTP_PORT="${HTTP_PORT[$svc]}" \
    --label io.companychat.module="$svc" \
    -t "$IMAGE_PREFIX/$svc:$IMAGE_TAG" "$ROOT" >/dev/null
  log "image: $IMAGE_PREFIX/$svc:$IMAGE_TAG built in $((SECONDS - start)) s ($(podman image inspect --format '{{.Size}}' "$IMAGE_PREFIX/$svc:$IMAGE_TAG" | awk '{printf "%.0f MB", $1/1e6}'))"
done
# the images these tags pointed to before, now untagged
podman image prune --force --filter label=io.companychat.module >/dev/null
