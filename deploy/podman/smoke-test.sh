#!/usr/bin/env bash
# Smoke test through the gateway of a running company chat (see smoke-test.mjs): run it through
# run-dev.sh, which starts the pods and sets GATEWAY_URL, GATEWAY_MANAGEMENT_URL, USER_SERVICE_URL:
#   deploy/podman/run-dev.sh deploy/podman/smoke-test.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if [ ! -d node_modules/ws ]; then
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
fi
exec node smoke-test.mjs
