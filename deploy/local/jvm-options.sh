# shellcheck shell=bash
# The JVM options of a service outside Kubernetes (the local run, the benchmarks): the ones the deploy manifests
# give it, so that what a newcomer measures locally is what production costs. Sourced, not run:
#
#   . deploy/local/jvm-options.sh
#   java $(jvm_options chat-service) -jar chat-service/target/quarkus-app/quarkus-run.jar
#
# - JAVA_OPTS from the service's ConfigMap (deploy/kubernetes/base/config/<service>.env) when it sets one
#   (chat-service and gateway: Serial GC, young generation capped, C heap trimmed), else the image's default (deploy/containers/Dockerfile.jvm:
#   75 % of the container's memory for the heap);
# - -XX:MaxRAMPercentage becomes -Xmx of the Deployment's memory limit (there is no container limit here: the JVM
#   would otherwise take a quarter of the whole machine, four JVMs at once);
# - Serial GC unless the options choose a collector: what the JVM itself picks in a pod with one CPU.
# Measured on chat-service with 19,000 idle joined sockets: 23 KB RSS per socket with the JVM's defaults on this
# machine, 9.9 KB with these (chat-service/README.md).
# LOCAL_JAVA_OPTS, when set, is appended (e.g. LOCAL_JAVA_OPTS=-Xmx2g for a load test).

_jvm_options_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# The Deployment's memory limit of the service, in MiB (512 if it cannot be read).
pod_memory_mib() {
  local manifest=$_jvm_options_root/deploy/kubernetes/base/$1.yaml limit
  limit=$(awk '/limits:/ { inside = 1; next } inside && /memory:/ { print $2; exit }' "$manifest" 2>/dev/null)
  case "$limit" in
    *Gi) echo $(( ${limit%Gi} * 1024 )) ;;
    *Mi) echo "${limit%Mi}" ;;
    *) echo 512 ;;
  esac
}

jvm_options() {
  local service=$1 env_file opts percent
  env_file=$_jvm_options_root/deploy/kubernetes/base/config/$service.env
  opts=$(sed -n 's/^JAVA_OPTS=//p' "$env_file" 2>/dev/null)
  [ -n "$opts" ] || opts="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError"
  percent=$(sed -n 's/.*-XX:MaxRAMPercentage=\([0-9]*\).*/\1/p' <<<"$opts")
  opts=$(sed 's/-XX:MaxRAMPercentage=[0-9.]*//' <<<"$opts")
  case "$opts" in *-XX:+Use*GC*) ;; *) opts="$opts -XX:+UseSerialGC" ;; esac
  # shellcheck disable=SC2086  # word splitting wanted: one option per word
  echo "-Xmx$(( $(pod_memory_mib "$service") * ${percent:-75} / 100 ))m" $opts ${LOCAL_JAVA_OPTS:-}
}
