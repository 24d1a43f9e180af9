#!/usr/bin/env bash
# Offline checks of the Kubernetes manifests: renders every overlay with kubectl kustomize,
# validates the objects against the Kubernetes API schema and the project's rules, and checks
# that the broken fixtures are rejected; then checks and unit-tests the alert rules with promtool (Debian's
# "prometheus" package; PROMTOOL_OPTIONAL=1 skips them where it is missing). Needs node (20+), npm (first run only)
# and kubectl.
# Prints one line per check and "N passed, N failed"; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

command -v node >/dev/null 2>&1 || { echo "deploy/checks: node is required" >&2; exit 1; }
if [ ! -d node_modules/kubernetes-models ] || [ ! -d node_modules/yaml ]; then
  echo "deploy/checks: installing kubernetes-models and yaml (npm ci)"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
fi
status=0
node validate.mjs "$@" || status=1
# The monitoring component's alert rules: promtool check rules + the unit tests in prometheus-rules.test.yaml.
node rules.mjs || status=1
exit $status
