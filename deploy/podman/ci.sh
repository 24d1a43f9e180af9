#!/usr/bin/env bash
# The containers stage of .ci/run: build the JVM images of the four modules (base image cached
# between runs), run the dev overlay with podman kube play against the local PostgreSQL, smoke
# test through the gateway, tear down. Expects the packaged jars (./mvnw -B verify ran before).
#
# Where podman cannot work (not root, not Linux, no apt-get to install it, no PostgreSQL, podman
# unable to start a container) it prints one "podman: skipped: <reason>" line and exits 0; a
# failure of the build, the run or the smoke test exits non-zero.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

skip() {
  echo "podman: skipped: $*"
  exit 0
}

started=$SECONDS
[ "$(uname -s)" = Linux ] || skip "not Linux"
[ "$(id -u)" = 0 ] || skip "not root (rootful podman and debootstrap need root)"
if ! command -v podman >/dev/null 2>&1 && ! command -v apt-get >/dev/null 2>&1; then
  skip "no podman, and no apt-get to install it"
fi
command -v kubectl >/dev/null 2>&1 || skip "no kubectl"
command -v node >/dev/null 2>&1 || skip "no node for the smoke test"
for tool in psql openssl curl; do command -v "$tool" >/dev/null 2>&1 || skip "no $tool"; done
(exec 3<>"/dev/tcp/${PGHOST:-127.0.0.1}/${PGPORT:-5432}") 2>/dev/null \
  || skip "no PostgreSQL at ${PGHOST:-127.0.0.1}:${PGPORT:-5432}"
ensure_packages || skip "could not install podman, buildah, runc, catatonit, debootstrap from Debian"

for svc in "${SERVICES[@]}"; do
  [ -f "$ROOT/$svc/target/quarkus-app/quarkus-run.jar" ] \
    || die "$svc/target/quarkus-app/quarkus-run.jar is missing: package the modules first (./mvnw -B verify)"
done

"$PODMAN_DIR/build-images.sh"
if ! out=$(podman run --rm "$BASE_IMAGE" true 2>&1); then
  skip "podman cannot start a container here: $(printf '%s' "$out" | tail -n 1)"
fi
log "images ready after $((SECONDS - started)) s"

"$PODMAN_DIR/run-dev.sh" "$PODMAN_DIR/smoke-test.sh"
log "podman: build, kube play, smoke test and teardown passed in $((SECONDS - started)) s"
