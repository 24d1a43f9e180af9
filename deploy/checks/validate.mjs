#!/usr/bin/env node
// Offline checks of the Kubernetes manifests (run through deploy/checks/run.sh):
//   1. `kubectl kustomize` renders every overlay under deploy/kubernetes/overlays/;
//   2. every rendered object is valid against the Kubernetes API schema (kubernetes-models);
//   3. no object carries a key the schema does not define (kubernetes-models accepts those);
//   4. the project's rules: probes, resources, non-root, read-only root filesystem, no privilege
//      escalation (Deployments and Jobs), graceful shutdown with the kubelet's sleep as preStop,
//      secrets only by reference, the gateway as the only entry point (from the ingress
//      controller's namespace only), no query strings in the Ingress's access log, network
//      policies, chat-service's disruption budget and autoscaler (sockets and memory, not CPU
//      alone), the gateway's autoscaler and spread, the PostgreSQL connection budget, the
//      migration Job; Gateway API HTTPRoutes (no schema in kubernetes-models) get a schema-light
//      check of their own;
//   5. self-test: every fixture under fixtures/ (the dev overlay, or the one its "# overlay:" line names,
//      plus one deliberate defect) must be rejected by the check its "# expect:" line names.
// One line per check, then "N passed, N failed"; the exit status is 1 when anything failed.
// Usage: node validate.mjs [--no-self-test] [--verbose]

import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");
const OVERLAYS = path.join(ROOT, "deploy/kubernetes/overlays");
const FIXTURES = path.join(HERE, "fixtures");
const SECRETS_EXAMPLE = path.join(ROOT, "deploy/kubernetes/base/secrets.example.yaml");
// Rendered and schema-checked only: the podman run's variant of dev (host networking, no probes),
// so that a break there shows here even where podman cannot run.
// The prometheus-adapter example is not applied with an overlay, but must stay valid too.
const SCHEMA_ONLY = {
  "podman-kube": path.join(ROOT, "deploy/podman/kube"),
  "example prometheus-adapter": path.join(ROOT, "deploy/kubernetes/examples/prometheus-adapter"),
};
const KUBECTL = process.env.KUBECTL ?? (existsSync("/usr/bin/kubectl") ? "/usr/bin/kubectl" : "kubectl");
const MODELS = path.join(HERE, "node_modules/kubernetes-models");

// The workloads, their main port, where their health endpoints answer and their management port (metrics).
// `listen`: the pod holds one PostgreSQL LISTEN connection besides its pools (common's PgNotifications: the
// revoked-token list, and chat-service's message bus on the same connection).
const SERVICES = {
  "user-service": { port: 8081, healthPort: 8081, managementPort: 9081, listen: true },
  "auth-service": { port: 8082, healthPort: 8082, managementPort: 9082, listen: true },
  "chat-service": { port: 8083, healthPort: 8083, managementPort: 9083, listen: true },
  gateway: { port: 8080, healthPort: 9000, managementPort: 9000 },
};
const MANAGEMENT_PORTS = new Set(Object.values(SERVICES).map((s) => s.managementPort));
// Where Prometheus runs (components/monitoring): the only namespace let in on the management ports.
const MONITORING_NAMESPACE = "monitoring";
// Flyway takes two JDBC connections at once (its schema history has a connection of its own): a pool
// of one stalls the start with "Sorry, acquisition timeout".
const MIN_JDBC_POOL = 2;
const NAME_LABEL = "app.kubernetes.io/name";
// Measured: ~230 MB RSS after start; the limit must leave room for heap growth under load.
const MIN_MEMORY_LIMIT = 384 * 2 ** 20;
// Native images (tags ending in -native) rest at a fraction of that (an estimate: never measured here).
const MIN_NATIVE_MEMORY_LIMIT = 128 * 2 ** 20;
// A native image without -Xmx takes 80 % of its container's memory limit for the heap (GraalVM's
// MaximumHeapSizePercent), leaving too little for thread stacks, Netty's direct buffers and the image itself: an
// OOM kill instead of an OutOfMemoryError. Its args must cap the heap; at most this share of the limit.
const MAX_NATIVE_HEAP_SHARE = 0.75;
const DEFAULT_GRACE_SECONDS = 30; // Kubernetes' default terminationGracePeriodSeconds
// names of secret values, lists included (INTERNAL_ACCEPTED_SERVICE_TOKENS); not *_CREDENTIALS, which names a file (CHAT_NATS_CREDENTIALS)
const SECRET_NAME = /(PASSWORDS?|PASSWD|TOKENS?|SECRETS?|PRIVATE_KEY|_KEY)$/i;
const PEM = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

const args = new Set(process.argv.slice(2));
const VERBOSE = args.has("--verbose");

// ------------------------------------------------------------------ rendering and parsing

function render(dir) {
  return execFileSync(KUBECTL, ["kustomize", dir], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function parseObjects(text) {
  const objects = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`YAML: ${doc.errors[0].message}`);
    const obj = doc.toJS();
    if (obj != null) objects.push(obj);
  }
  return objects;
}

const id = (o) => `${o.kind}/${o.metadata?.name ?? "?"}`;

// ------------------------------------------------------------------ schema validation

const schemaCache = new Map();

// The kubernetes-models class for apiVersion/kind and the compiled schema validator it uses.
async function schemaFor(apiVersion, kind) {
  const key = `${apiVersion}/${kind}`;
  if (!schemaCache.has(key)) {
    const file = path.join(MODELS, apiVersion, `${kind}.js`);
    let entry = null;
    if (existsSync(file)) {
      const model = (await import(`kubernetes-models/${apiVersion}/${kind}`))[kind];
      const schemaName = /_schemas\/(\w+)\.js/.exec(readFileSync(file, "utf8"))?.[1];
      const { validate } = await import(`kubernetes-models/_schemas/${schemaName}`);
      entry = { model, validate };
    }
    schemaCache.set(key, entry);
  }
  return schemaCache.get(key);
}

// kubernetes-models ships its schemas as precompiled validators, not as JSON schemas, and they
// accept keys the schema does not define. The validator reads every property its schema defines
// (`data.field`) and enumerates the keys of free-form maps (labels, ConfigMap data); so we hand it
// the object wrapped in proxies that record what it reads. A key it never read, in an object
// whose keys it did not enumerate, is a key the schema does not know.
function unknownKeys(validate, obj) {
  const nodes = [];
  const wrap = (value, at) => {
    if (Array.isArray(value)) return value.map((v, i) => wrap(v, `${at}/${i}`));
    if (value === null || typeof value !== "object") return value;
    const node = { at, keys: Object.keys(value), read: new Set(), enumerated: false, touched: false };
    nodes.push(node);
    const target = {};
    for (const k of node.keys) target[k] = wrap(value[k], `${at}/${k}`);
    const note = (k) => {
      node.touched = true;
      if (typeof k === "string") node.read.add(k);
    };
    return new Proxy(target, {
      get: (t, k, r) => (note(k), Reflect.get(t, k, r)),
      has: (t, k) => (note(k), Reflect.has(t, k)),
      getOwnPropertyDescriptor: (t, k) => (note(k), Reflect.getOwnPropertyDescriptor(t, k)),
      ownKeys: (t) => ((node.touched = true), (node.enumerated = true), Reflect.ownKeys(t)),
    });
  };
  validate(wrap(obj, ""));
  const unknown = [];
  for (const node of nodes) {
    // untouched: a free-form object (no properties in its schema) or below an unknown key
    if (!node.touched || node.enumerated) continue;
    for (const k of node.keys) if (!node.read.has(k)) unknown.push(`${node.at}/${k}`);
  }
  return unknown;
}

// ------------------------------------------------------------------ helpers for the rules

function quantityBytes(q) {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(q ?? ""));
  if (!m) return NaN;
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2]] ?? 1;
  return Number(m[1]) * unit;
}

// A rolling update's maxSurge (an int or a percentage of the replicas, rounded up) in pods.
function surgePods(deployment, replicas) {
  if (deployment.spec?.strategy?.type === "Recreate") return 0;
  const surge = deployment.spec?.strategy?.rollingUpdate?.maxSurge ?? "25%";
  const pct = /^(\d+)%$/.exec(String(surge));
  return pct ? Math.ceil((Number(pct[1]) / 100) * replicas) : Number(surge);
}

// Gateway API durations: up to four <number><unit> parts, e.g. 1h, 30s, 1m30s; 0s disables a timeout.
const GATEWAY_DURATION = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;

// HTTPRoute (gateway.networking.k8s.io/v1) has no schema in kubernetes-models: the fields of the
// standard channel this project may use, with their shapes. A key not listed is unknown.
function httpRouteProblems(route) {
  const problems = [];
  const known = (obj, at, keys) => {
    if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
      problems.push(`${at} is not an object`);
      return false;
    }
    for (const k of Object.keys(obj)) if (!keys.includes(k)) problems.push(`unknown key ${at}/${k}`);
    return true;
  };
  const list = (value, at) => {
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
      problems.push(`${at} is not a list`);
      return [];
    }
    return value;
  };
  known(route, "", ["apiVersion", "kind", "metadata", "spec", "status"]);
  if (route.apiVersion !== "gateway.networking.k8s.io/v1") problems.push(`apiVersion ${route.apiVersion}, expected gateway.networking.k8s.io/v1`);
  if (!route.metadata?.name) problems.push("no metadata.name");
  const spec = route.spec ?? {};
  if (!known(spec, "/spec", ["parentRefs", "hostnames", "rules"])) return problems;
  const parents = list(spec.parentRefs, "/spec/parentRefs");
  if (parents.length === 0) problems.push("no spec.parentRefs: the route attaches to no Gateway");
  parents.forEach((p, i) => {
    known(p, `/spec/parentRefs/${i}`, ["group", "kind", "namespace", "name", "sectionName", "port"]);
    if (typeof p.name !== "string" || !p.name) problems.push(`/spec/parentRefs/${i} has no name`);
  });
  list(spec.hostnames, "/spec/hostnames").forEach((h, i) => {
    if (typeof h !== "string" || !/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(h)) problems.push(`/spec/hostnames/${i} ${h} is not a host name`);
  });
  list(spec.rules, "/spec/rules").forEach((r, i) => {
    const at = `/spec/rules/${i}`;
    if (!known(r, at, ["name", "matches", "filters", "backendRefs", "timeouts", "sessionPersistence"])) return;
    list(r.matches, `${at}/matches`).forEach((m, j) => {
      if (!known(m, `${at}/matches/${j}`, ["path", "headers", "queryParams", "method"])) return;
      if (m.path !== undefined && known(m.path, `${at}/matches/${j}/path`, ["type", "value"])) {
        if (!["Exact", "PathPrefix", "RegularExpression"].includes(m.path.type ?? "PathPrefix")) problems.push(`${at}/matches/${j}/path/type ${m.path.type}`);
        if (typeof m.path.value !== "string" || !m.path.value.startsWith("/")) problems.push(`${at}/matches/${j}/path/value must start with /`);
      }
    });
    list(r.backendRefs, `${at}/backendRefs`).forEach((b, j) => {
      if (!known(b, `${at}/backendRefs/${j}`, ["group", "kind", "name", "namespace", "port", "weight", "filters"])) return;
      if (typeof b.name !== "string" || !b.name) problems.push(`${at}/backendRefs/${j} has no name`);
      if ((b.kind ?? "Service") === "Service" && !Number.isInteger(b.port)) problems.push(`${at}/backendRefs/${j}: a Service backend needs a numeric port`);
    });
    if (r.timeouts !== undefined && known(r.timeouts, `${at}/timeouts`, ["request", "backendRequest"])) {
      for (const [k, v] of Object.entries(r.timeouts)) if (!GATEWAY_DURATION.test(String(v))) problems.push(`${at}/timeouts/${k} ${v} is not a Gateway API duration`);
    }
  });
  return problems;
}

// Seconds of a Gateway API duration (0 = the timeout is off).
function gatewayDurationSeconds(text) {
  let total = 0;
  for (const [, n, unit] of String(text).matchAll(/([0-9]+)(h|ms|m|s)/g)) total += Number(n) * { h: 3600, m: 60, s: 1, ms: 0.001 }[unit];
  return total;
}

function durationSeconds(text) {
  const s = String(text ?? "").trim();
  let m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/i.exec(s);
  if (m) return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[(m[2] ?? "s").toLowerCase()];
  m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$/i.exec(s);
  if (m) return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
  return NaN;
}

function matches(selector, labels) {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels?.[k] !== v) return false;
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = labels !== undefined && key in labels;
    if (operator === "In" && !(has && values.includes(labels[key]))) return false;
    if (operator === "NotIn" && has && values.includes(labels[key])) return false;
    if (operator === "Exists" && !has) return false;
    if (operator === "DoesNotExist" && has) return false;
  }
  return true;
}

// The environment a container sees: literal values, secret references, envFrom ConfigMaps.
function containerEnv(container, configMaps) {
  const env = new Map();
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) {
      const cm = configMaps.get(from.configMapRef.name);
      for (const [k, v] of Object.entries(cm?.data ?? {})) env.set(`${from.prefix ?? ""}${k}`, { value: v, from: `ConfigMap/${cm.metadata.name}` });
    }
    if (from.secretRef) env.set(`${from.prefix ?? ""}*`, { secret: from.secretRef.name });
  }
  for (const e of container.env ?? []) {
    if (e.valueFrom?.secretKeyRef) env.set(e.name, { secret: e.valueFrom.secretKeyRef.name });
    else if (e.valueFrom?.configMapKeyRef) {
      const ref = e.valueFrom.configMapKeyRef;
      env.set(e.name, { value: configMaps.get(ref.name)?.data?.[ref.key], from: `ConfigMap/${ref.name}` });
    } else env.set(e.name, { value: e.value ?? "", literal: true });
  }
  return env;
}

function portNumber(container, port) {
  if (typeof port === "number") return port;
  return (container.ports ?? []).find((p) => p.name === port)?.containerPort;
}

function preStopSeconds(container) {
  const pre = container.lifecycle?.preStop;
  if (pre?.sleep) return pre.sleep.seconds;
  const cmd = pre?.exec?.command ?? [];
  const i = cmd.findIndex((c) => /(^|\/)sleep$/.test(c));
  return i >= 0 ? Number(cmd[i + 1]) : pre ? 0 : undefined;
}

// The Secrets (and their keys) ops are told to create: deploy/kubernetes/base/secrets.example.yaml.
function documentedSecrets() {
  const secrets = new Map();
  for (const o of parseObjects(readFileSync(SECRETS_EXAMPLE, "utf8"))) {
    if (o.kind === "Secret") secrets.set(o.metadata.name, new Set(Object.keys({ ...o.data, ...o.stringData })));
  }
  return secrets;
}

// ------------------------------------------------------------------ the checks of one rendering

// Returns [{ name, problems: [] }]; name is what a line says and what a fixture's "# expect:" names.
async function checkRendering(objects, overlay, { rules = true } = {}) {
  const results = [];
  const check = (name, problems) => results.push({ name, problems: problems.filter(Boolean) });

  const of = (kind) => objects.filter((o) => o.kind === kind);
  const deployments = of("Deployment");
  const jobs = of("Job");
  const services = of("Service");
  const configMaps = new Map(of("ConfigMap").map((c) => [c.metadata.name, c]));
  const policies = of("NetworkPolicy");
  const podLabels = (name) => deployments.find((d) => d.metadata.name === name)?.spec?.template?.metadata?.labels ?? {};

  // schema: one line per object
  for (const o of objects) {
    if (o.kind === "HTTPRoute") {
      check(`schema: ${id(o)} (schema-light: Gateway API)`, httpRouteProblems(o));
      continue;
    }
    const crd = CRD_CHECKS[`${o.apiVersion}/${o.kind}`];
    if (crd) {
      check(`schema: ${id(o)}`, crd(o));
      continue;
    }
    const schema = o.apiVersion && o.kind ? await schemaFor(o.apiVersion, o.kind) : null;
    if (!schema) {
      check(`schema: ${id(o)}`, [`no Kubernetes schema for apiVersion ${o.apiVersion} kind ${o.kind}`]);
      continue;
    }
    const problems = [];
    try {
      new schema.model(o).validate();
    } catch (e) {
      problems.push(e.message.replace(/\s+/g, " "));
    }
    for (const key of unknownKeys(schema.validate, o)) problems.push(`unknown key ${key}`);
    check(`schema: ${id(o)}`, problems);
  }
  if (!rules) return results;

  // the four workloads and their Services
  for (const [name, svc] of Object.entries(SERVICES)) {
    const d = deployments.find((x) => x.metadata.name === name);
    const s = services.find((x) => x.metadata.name === name);
    check(`workload: ${name} has a Deployment and a Service`, [
      !d && "no Deployment",
      !s && "no Service",
      s && !matches({ matchLabels: s.spec?.selector }, podLabels(name)) && "the Service's selector does not match the pods",
      s && !(s.spec?.ports ?? []).some((p) => p.port === svc.port) && `the Service does not offer port ${svc.port}`,
    ]);
  }

  const secrets = documentedSecrets();
  // Deployments and Jobs (the migration Job) run the same images under the same pod rules; probes and
  // graceful shutdown are the Deployments' only.
  for (const d of [...deployments, ...jobs]) {
    const pod = d.spec?.template?.spec ?? {};
    const name = d.metadata.name;
    const expected = SERVICES[name];
    const serving = d.kind === "Deployment";
    const containers = pod.containers ?? [];
    const each = (fn) => containers.flatMap((c) => fn(c).filter(Boolean).map((p) => `${c.name}: ${p}`));

    if (serving) check(`probes: ${name} (readiness /q/health/ready, liveness /q/health/live)`, each((c) => {
      const problems = [];
      for (const [probe, pathWanted] of [["readinessProbe", "/q/health/ready"], ["livenessProbe", "/q/health/live"]]) {
        const get = c[probe]?.httpGet;
        if (!get) {
          problems.push(`no ${probe} (httpGet)`);
          continue;
        }
        if (get.path !== pathWanted) problems.push(`${probe} path ${get.path}, expected ${pathWanted}`);
        const port = portNumber(c, get.port);
        if (port === undefined) problems.push(`${probe} port ${get.port} is not a declared container port`);
        else if (expected && port !== expected.healthPort) problems.push(`${probe} on port ${port}, health answers on ${expected.healthPort}`);
      }
      return problems;
    }));

    check(`resources: ${name} (requests and limits)`, each((c) => {
      const r = c.resources ?? {};
      const problems = ["cpu", "memory"].flatMap((res) => [
        r.requests?.[res] === undefined && `no requests.${res}`,
        r.limits?.[res] === undefined && `no limits.${res}`,
      ]);
      const req = quantityBytes(r.requests?.memory), lim = quantityBytes(r.limits?.memory);
      if (req > lim) problems.push(`requests.memory ${r.requests.memory} above limits.memory ${r.limits.memory}`);
      if (/-native$/.test(c.image ?? "")) {
        if (lim < MIN_NATIVE_MEMORY_LIMIT) problems.push(`limits.memory ${r.limits.memory} of a native image is below 128Mi`);
        const xmx = (c.args ?? []).map((a) => /^-Xmx(\d+)([kmg]?)$/i.exec(String(a))).find(Boolean);
        const heap = xmx && Number(xmx[1]) * ({ k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 }[xmx[2].toLowerCase()] ?? 1);
        if (!xmx) problems.push(`a native image without -Xmx in its args takes 80 % of limits.memory for its heap (set at most ${MAX_NATIVE_HEAP_SHARE * 100} %)`);
        else if (heap > MAX_NATIVE_HEAP_SHARE * lim) problems.push(`-Xmx${xmx[1]}${xmx[2]} is above ${MAX_NATIVE_HEAP_SHARE * 100} % of limits.memory ${r.limits.memory}`);
      } else if (lim < MIN_MEMORY_LIMIT) problems.push(`limits.memory ${r.limits.memory} leaves no room above the measured ~230 MB RSS (at least 384Mi)`);
      return problems;
    }));

    const psc = pod.securityContext ?? {};
    check(`non-root: ${name}`, each((c) => {
      const sc = c.securityContext ?? {};
      const nonRoot = sc.runAsNonRoot ?? psc.runAsNonRoot;
      const user = sc.runAsUser ?? psc.runAsUser;
      return [nonRoot !== true && "runAsNonRoot is not true", user === 0 && "runAsUser is 0"];
    }));

    check(`read-only root filesystem: ${name}`, each((c) => {
      const tmp = (c.volumeMounts ?? []).find((m) => m.mountPath === "/tmp");
      const vol = tmp && (pod.volumes ?? []).find((v) => v.name === tmp.name);
      return [
        c.securityContext?.readOnlyRootFilesystem !== true && "readOnlyRootFilesystem is not true",
        !vol?.emptyDir && "no emptyDir mounted at /tmp (the JVM and Vert.x write there)",
      ];
    }));

    check(`no privilege escalation: ${name}`, [
      ...each((c) => {
        const sc = c.securityContext ?? {};
        const seccomp = sc.seccompProfile?.type ?? psc.seccompProfile?.type;
        return [
          sc.allowPrivilegeEscalation !== false && "allowPrivilegeEscalation is not false",
          sc.privileged === true && "privileged",
          !(sc.capabilities?.drop ?? []).includes("ALL") && "capabilities do not drop ALL",
          (sc.capabilities?.add ?? []).length > 0 && `adds capabilities ${sc.capabilities.add.join(",")}`,
          !["RuntimeDefault", "Localhost"].includes(seccomp) && "no seccompProfile RuntimeDefault",
          (c.ports ?? []).some((p) => p.hostPort) && "uses a hostPort",
        ];
      }),
      pod.hostNetwork && "hostNetwork",
      pod.hostPID && "hostPID",
      pod.hostIPC && "hostIPC",
      (pod.volumes ?? []).some((v) => v.hostPath) && "mounts a hostPath",
    ]);

    // The kubelet's sleep action (Kubernetes 1.30+) needs nothing in the image; an exec of `sleep`
    // needs a shell or a sleep binary, which a minimal or native image may not have (the hook then
    // fails and the pod is killed at once, dropping its requests).
    if (serving) check(`preStop sleep action: ${name}`, each((c) => {
      const pre = c.lifecycle?.preStop;
      return [
        !pre && "no preStop hook",
        pre?.exec && `preStop runs ${JSON.stringify(pre.exec.command)}: use lifecycle.preStop.sleep.seconds (no shell or sleep binary needed)`,
        pre && !pre.exec && !(pre.sleep?.seconds > 0) && "preStop has no sleep.seconds",
      ];
    }));

    if (serving) check(`graceful shutdown: ${name} (preStop + shutdown timeout < termination grace)`, each((c) => {
      const pre = preStopSeconds(c);
      const grace = pod.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
      const timeout = containerEnv(c, configMaps).get("QUARKUS_SHUTDOWN_TIMEOUT")?.value;
      const shutdown = timeout === undefined ? NaN : durationSeconds(timeout);
      return [
        pre === undefined && "no preStop hook",
        Number.isNaN(shutdown) && "no QUARKUS_SHUTDOWN_TIMEOUT (requests in flight are cut at SIGTERM)",
        pre !== undefined && !Number.isNaN(shutdown) && pre + shutdown >= grace &&
          `preStop ${pre} s + shutdown ${shutdown} s does not fit in terminationGracePeriodSeconds ${grace}`,
      ];
    }));

    check(`secrets by reference: ${name}`, [
      ...each((c) => {
        const problems = [];
        for (const [k, v] of containerEnv(c, configMaps)) {
          if (v.secret) continue;
          if (SECRET_NAME.test(k) && v.value) problems.push(`${k} has a literal value${v.from ? ` (from ${v.from})` : ""}; use a secretKeyRef`);
          if (PEM.test(v.value ?? "")) problems.push(`${k} holds a private key`);
        }
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          if (ref && !secrets.get(ref.name)?.has(ref.key)) problems.push(`Secret ${ref.name} key ${ref.key} is not documented in base/secrets.example.yaml`);
        }
        return problems;
      }),
      ...(pod.volumes ?? []).filter((v) => v.secret).flatMap((v) => [
        !secrets.has(v.secret.secretName) && `Secret ${v.secret.secretName} is not documented in base/secrets.example.yaml`,
        ...(v.secret.items ?? []).map((i) => secrets.get(v.secret.secretName) && !secrets.get(v.secret.secretName).has(i.key) && `Secret ${v.secret.secretName} key ${i.key} is not documented`),
      ]),
    ]);

    check(`config references: ${name}`, each((c) => [
      ...(c.envFrom ?? []).map((f) => f.configMapRef && !f.configMapRef.optional && !configMaps.has(f.configMapRef.name) && `ConfigMap ${f.configMapRef.name} is not in the rendering`),
      ...(c.env ?? []).map((e) => {
        const ref = e.valueFrom?.configMapKeyRef;
        return ref && !ref.optional && configMaps.get(ref.name)?.data?.[ref.key] === undefined && `ConfigMap ${ref.name} key ${ref.key} is missing`;
      }),
    ]).concat((pod.volumes ?? []).map((v) => v.configMap && !v.configMap.optional && !configMaps.has(v.configMap.name) && `ConfigMap ${v.configMap.name} is not in the rendering`)));

    check(`image: ${name}`, each((c) => {
      const tag = /:([^/:@]+)$/.exec(c.image ?? "")?.[1];
      return [
        !tag && !/@sha256:/.test(c.image ?? "") && `image ${c.image} has no tag`,
        tag === "latest" && `image ${c.image} uses :latest`,
        overlay === "dev" && c.imagePullPolicy !== "Never" && "dev images are built locally: imagePullPolicy must be Never",
        overlay !== "dev" && tag === "dev" && `image ${c.image} is a dev build`,
      ];
    }));
  }

  // secrets: nothing secret in the rendered output
  check("no secret values in the rendering", [
    ...of("Secret").filter((s) => Object.keys({ ...s.data, ...s.stringData }).length > 0).map((s) => `${id(s)} carries data (Secrets are created outside the kustomization)`),
    ...[...configMaps.values()].flatMap((cm) => Object.entries(cm.data ?? {}).flatMap(([k, v]) => [
      SECRET_NAME.test(k) && v && `${id(cm)} has ${k}`,
      PEM.test(v) && `${id(cm)} ${k} holds a private key`,
    ])),
  ]);

  // only the gateway is reachable from outside
  const ingresses = of("Ingress");
  const routes = objects.filter((o) => o.kind === "HTTPRoute");
  const backends = [
    ...ingresses.flatMap((i) => [
      i.spec?.defaultBackend?.service,
      ...(i.spec?.rules ?? []).flatMap((r) => (r.http?.paths ?? []).map((p) => p.backend?.service)),
    ]).filter(Boolean).map((b) => ({ name: b.name, port: b.port?.number ?? b.port?.name })),
    ...routes.flatMap((r) => (r.spec?.rules ?? []).flatMap((x) => x.backendRefs ?? [])).map((b) => ({ name: b.name, port: b.port })),
  ];
  check("only the gateway is exposed", [
    ingresses.length + routes.length === 0 && "no Ingress or HTTPRoute exposes the gateway",
    ...backends.filter((b) => b.name !== "gateway").map((b) => `an Ingress/HTTPRoute routes to Service ${b.name}`),
    ...backends.filter((b) => b.name === "gateway" && ![8080, "http"].includes(b.port)).map((b) => `the gateway is exposed on port ${b.port}, not 8080`),
    ...services.filter((s) => (s.spec?.type ?? "ClusterIP") !== "ClusterIP").map((s) => `${id(s)} is of type ${s.spec.type}`),
  ]);

  // Tokens ride in ?token= on /socket/*: the Ingress controller's default access log line ($request)
  // would write them to disk. ingress-nginx: no access log for this Ingress.
  check("Ingress access log without query strings", ingresses.map((i) => {
    const accessLog = i.metadata?.annotations?.["nginx.ingress.kubernetes.io/enable-access-log"];
    return accessLog !== "false" &&
      `${id(i)} keeps the controller's access log, which records query strings (?token=): set nginx.ingress.kubernetes.io/enable-access-log: "false"`;
  }));

  // network policies
  const selecting = (labels) => policies.filter((p) => matches(p.spec?.podSelector, labels) || Object.keys(p.spec?.podSelector ?? {}).length === 0);
  const ingressRules = (labels) => selecting(labels).filter((p) => (p.spec?.policyTypes ?? ["Ingress"]).includes("Ingress")).flatMap((p) => (p.spec?.ingress ?? []).map((r) => ({ policy: p.metadata.name, rule: r })));
  const allows = (rule, port) => !rule.ports || rule.ports.some((p) => p.port === undefined || p.port === port);
  const peerName = (peer) => (peer.podSelector && !peer.namespaceSelector && !peer.ipBlock ? peer.podSelector.matchLabels?.[NAME_LABEL] : undefined);
  // the monitoring namespace (no narrower peer) on management ports only, never a service port
  const isMonitoringScrape = (rule) => (rule.from ?? []).length > 0 && (rule.ports ?? []).length > 0 &&
    rule.from.every((peer) => !peer.podSelector && !peer.ipBlock &&
      peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] === MONITORING_NAMESPACE &&
      Object.keys(peer.namespaceSelector).length === 1 && Object.keys(peer.namespaceSelector.matchLabels).length === 1) &&
    rule.ports.every((p) => MANAGEMENT_PORTS.has(p.port));
  check("network policies: default deny", [
    !policies.some((p) => Object.keys(p.spec?.podSelector ?? {}).length === 0 && (p.spec?.policyTypes ?? []).includes("Ingress") && (p.spec?.ingress ?? []).length === 0) &&
      "no policy denies all ingress by default (podSelector {}, policyTypes [Ingress], no rules)",
  ]);
  for (const [name, svc] of Object.entries(SERVICES)) {
    const labels = podLabels(name);
    const rules = ingressRules(labels);
    const problems = [];
    if (!policies.some((p) => matches(p.spec?.podSelector, labels))) problems.push("no NetworkPolicy selects its pods");
    if (name === "gateway") {
      if (!rules.some(({ rule }) => allows(rule, svc.port))) problems.push(`nothing may reach port ${svc.port}`);
      for (const { policy, rule } of rules) {
        if (isMonitoringScrape(rule)) continue;
        for (const p of rule.ports ?? [{}]) if (p.port !== svc.port) problems.push(`${policy} opens port ${p.port ?? "(all)"}; only ${svc.port} is public`);
        // only the ingress controller's (or Gateway API data plane's) namespace: a namespaceSelector that names one
        if (!rule.from || rule.from.length === 0) problems.push(`${policy} lets every pod and address reach the gateway; allow the ingress controller's namespace only`);
        for (const peer of rule.from ?? []) {
          const ns = peer.namespaceSelector;
          const names = ns && (Object.keys(ns.matchLabels ?? {}).length > 0 || (ns.matchExpressions ?? []).length > 0);
          if (!names || peer.ipBlock) problems.push(`${policy} lets in ${JSON.stringify(peer)}; only a namespaceSelector naming the ingress controller's namespace`);
        }
      }
    } else {
      for (const { policy, rule } of rules) {
        if (isMonitoringScrape(rule)) continue;
        if (!rule.from || rule.from.length === 0) problems.push(`${policy} lets anyone in`);
        for (const peer of rule.from ?? []) {
          const from = peerName(peer);
          if (!from || !(from in SERVICES)) problems.push(`${policy} lets in ${JSON.stringify(peer)}; only the gateway and the services may`);
        }
      }
      const fromGateway = rules.some(({ rule }) => allows(rule, svc.port) && (rule.from ?? []).some((peer) => peerName(peer) === "gateway"));
      if (!fromGateway) problems.push(`the gateway cannot reach port ${svc.port}`);
    }
    check(`network policies: ${name}`, problems);
  }

  // monitoring (components/monitoring): in every prod overlay; the PodMonitor reaches each workload's management
  // port, and the monitoring namespace may reach it
  const podMonitors = of("PodMonitor");
  if (overlay.startsWith("prod")) {
    check("monitoring: the overlay includes components/monitoring", [
      podMonitors.length === 0 && "no PodMonitor",
      of("PrometheusRule").length === 0 && "no PrometheusRule",
    ]);
  }
  if (podMonitors.length > 0) {
    for (const [name, svc] of Object.entries(SERVICES)) {
      const d = deployments.find((x) => x.metadata.name === name);
      const ports = (d?.spec?.template?.spec?.containers ?? []).flatMap((c) => c.ports ?? []);
      const problems = [];
      const scraped = podMonitors.filter((pm) => matches(pm.spec?.selector, podLabels(name)));
      if (scraped.length === 0) problems.push("no PodMonitor selects its pods");
      for (const pm of scraped) {
        for (const endpoint of pm.spec?.podMetricsEndpoints ?? []) {
          const port = ports.find((p) => p.name === endpoint.port);
          if (!port) problems.push(`${pm.metadata.name} scrapes port "${endpoint.port}", which its pods do not name`);
          else if (port.containerPort !== svc.managementPort) problems.push(`${pm.metadata.name} scrapes port ${port.containerPort}, not the management port ${svc.managementPort}`);
        }
      }
      if (!ingressRules(podLabels(name)).some(({ rule }) => isMonitoringScrape(rule) && allows(rule, svc.managementPort))) {
        problems.push(`the ${MONITORING_NAMESPACE} namespace cannot reach port ${svc.managementPort}`);
      }
      check(`monitoring: ${name} scraped on its management port ${svc.managementPort}`, problems);
    }
  }

  // chat-service: several replicas, disruption budget, autoscaler
  const chatLabels = podLabels("chat-service");
  const hpa = of("HorizontalPodAutoscaler").find((h) => h.spec?.scaleTargetRef?.kind === "Deployment" && h.spec.scaleTargetRef.name === "chat-service");
  check("chat-service: PodDisruptionBudget", [
    !of("PodDisruptionBudget").some((p) => matches(p.spec?.selector, chatLabels)) && "no PodDisruptionBudget selects chat-service's pods",
  ]);
  check("chat-service: HorizontalPodAutoscaler (autoscaling/v2)", [
    !hpa && "no HorizontalPodAutoscaler targets Deployment chat-service",
    hpa && hpa.apiVersion !== "autoscaling/v2" && `the autoscaler is ${hpa.apiVersion}`,
    hpa && overlay === "prod" && !(hpa.spec.minReplicas >= 2) && "prod runs fewer than 2 chat-service replicas",
  ]);

  // chat-service's load is sockets (memory), not CPU: an idle socket costs no CPU, so a CPU autoscaler
  // never scales for them. It must scale on the open sockets per pod and on memory.
  const metricsOf = (h) => h?.spec?.metrics ?? [];
  const metricName = (m) => m[m.type === "Pods" ? "pods" : m.type === "Object" ? "object" : m.type === "External" ? "external" : "none"]?.metric?.name;
  if (hpa) {
    const metrics = metricsOf(hpa);
    check("chat-service: autoscaled on sockets and memory, not CPU alone", [
      !metrics.some((m) => metricName(m) === "chat_sockets_open") && "no metric chat_sockets_open (open sockets per pod, through a metrics adapter)",
      !metrics.some((m) => m.type === "Resource" && m.resource?.name === "memory") && "no memory Resource metric",
      metrics.length > 0 && metrics.every((m) => m.type === "Resource" && m.resource?.name === "cpu") && "scales on CPU only: its load is open sockets, which cost memory, not CPU",
    ]);
  }
  const hpas = of("HorizontalPodAutoscaler");
  check("autoscaled Deployments set no replicas", hpas.map((h) => {
    const target = deployments.find((d) => h.spec?.scaleTargetRef?.kind === "Deployment" && d.metadata.name === h.spec.scaleTargetRef.name);
    return target?.spec?.replicas !== undefined && `Deployment ${target.metadata.name} sets replicas, which every apply would reset under its autoscaler`;
  }));
  const gatewayDeployment = deployments.find((d) => d.metadata.name === "gateway");
  const gatewayHpa = hpas.find((h) => h.spec?.scaleTargetRef?.kind === "Deployment" && h.spec.scaleTargetRef.name === "gateway");
  const spread = (gatewayDeployment?.spec?.template?.spec?.topologySpreadConstraints ?? []).map((t) => t.topologyKey);
  check("gateway: autoscaled and spread over zones and nodes", [
    !gatewayHpa && "no HorizontalPodAutoscaler targets Deployment gateway",
    gatewayHpa && gatewayHpa.apiVersion !== "autoscaling/v2" && `the autoscaler is ${gatewayHpa.apiVersion}`,
    !spread.includes("topology.kubernetes.io/zone") && "no topologySpreadConstraint over topology.kubernetes.io/zone",
    !spread.includes("kubernetes.io/hostname") && "no topologySpreadConstraint over kubernetes.io/hostname",
  ]);
  // Every login and registration goes through these: one node or zone lost must not take every replica.
  for (const name of ["user-service", "auth-service"]) {
    const keys = (deployments.find((d) => d.metadata.name === name)?.spec?.template?.spec?.topologySpreadConstraints ?? [])
      .filter((t) => t.labelSelector?.matchLabels?.["app.kubernetes.io/name"] === name).map((t) => t.topologyKey);
    check(`${name}: spread over zones and nodes`, [
      !keys.includes("topology.kubernetes.io/zone") && "no topologySpreadConstraint over topology.kubernetes.io/zone for its own pods",
      !keys.includes("kubernetes.io/hostname") && "no topologySpreadConstraint over kubernetes.io/hostname for its own pods",
    ]);
  }

  // The PostgreSQL connection budget: at the manifests' own maximum scale, during a rollout (surge),
  // every pod's pools full, plus the migration Job, within what the server grants (PG_CONNECTION_BUDGET).
  {
    const problems = [];
    const terms = [];
    let total = 0;
    let budget;
    const poolSize = (env, key, who) => {
      const value = Number(env.get(key)?.value);
      if (!Number.isInteger(value) || value < 0) problems.push(`${who}: ${key} is not set (pool sizes are set per overlay)`);
      return Number.isInteger(value) ? value : 0;
    };
    for (const w of [...deployments, ...jobs]) {
      const c = w.spec?.template?.spec?.containers?.[0];
      const env = containerEnv(c ?? {}, configMaps);
      if (!env.has("PGHOST")) continue;
      const name = w.metadata.name;
      budget ??= Number(env.get("PG_CONNECTION_BUDGET")?.value);
      let pods;
      if (w.kind === "Job") pods = w.spec?.parallelism ?? 1;
      else {
        const h = hpas.find((x) => x.spec?.scaleTargetRef?.kind === "Deployment" && x.spec.scaleTargetRef.name === name);
        const replicas = h ? h.spec.maxReplicas : w.spec?.replicas ?? 1;
        pods = replicas + surgePods(w, replicas);
      }
      const reactive = poolSize(env, "QUARKUS_DATASOURCE_REACTIVE_MAX_SIZE", name);
      const jdbc = poolSize(env, "QUARKUS_DATASOURCE_JDBC_MAX_SIZE", name);
      if (jdbc < MIN_JDBC_POOL) problems.push(`${name}: QUARKUS_DATASOURCE_JDBC_MAX_SIZE ${jdbc} is below ${MIN_JDBC_POOL}, what Flyway takes at start (it would wait for a connection: "Sorry, acquisition timeout")`);
      // the Job runs a service image, which opens its LISTEN connection too if it gets that far
      const listen = SERVICES[name]?.listen || w.kind === "Job" ? 1 : 0;
      const sum = pods * (reactive + jdbc + listen);
      terms.push(`${name} ${pods}×(${reactive}+${jdbc}+${listen})=${sum}`);
      total += sum;
    }
    if (terms.length > 0) {
      if (!(budget > 0)) problems.push("no PG_CONNECTION_BUDGET in the services' environment (company-chat-database)");
      else if (total > budget) problems.push(`${terms.join(" + ")} = ${total} connections at full scale, above PG_CONNECTION_BUDGET ${budget}: lower the pools or maxReplicas, or raise max_connections and the budget`);
      check(`connection budget: ${total} of ${budget} at full scale (${terms.join(", ")})`, problems);
    }
  }

  // Outside dev the schema is migrated by a Job as its owner; the services only validate and log in
  // as a role without DDL rights.
  if (overlay !== "dev") {
    const job = jobs.find((j) => j.metadata.name === "schema-migration");
    const jobEnv = containerEnv(job?.spec?.template?.spec?.containers?.[0] ?? {}, configMaps);
    const serviceEnvs = Object.keys(SERVICES).filter((n) => SERVICES[n].listen)
      .map((n) => [n, containerEnv(deployments.find((d) => d.metadata.name === n)?.spec?.template?.spec?.containers?.[0] ?? {}, configMaps)]);
    check("migrations: a Job migrates, the services only validate", [
      !job && "no Job schema-migration",
      job && jobEnv.get("QUARKUS_INIT_AND_EXIT")?.value !== "true" && "the Job does not set QUARKUS_INIT_AND_EXIT=true (it would keep running)",
      job && jobEnv.get("QUARKUS_FLYWAY_MIGRATE_AT_START")?.value !== "true" && "the Job does not migrate (QUARKUS_FLYWAY_MIGRATE_AT_START)",
      ...serviceEnvs.flatMap(([n, env]) => [
        env.get("QUARKUS_FLYWAY_MIGRATE_AT_START")?.value !== "false" && `${n} still migrates at start (QUARKUS_FLYWAY_MIGRATE_AT_START=false)`,
        env.get("QUARKUS_FLYWAY_VALIDATE_AT_START")?.value !== "true" && `${n} does not validate the schema at start (QUARKUS_FLYWAY_VALIDATE_AT_START=true)`,
        job && env.get("PGUSER")?.value === jobEnv.get("PGUSER")?.value && `${n} logs in as the Job's role ${env.get("PGUSER")?.value}, the schema's owner`,
      ]),
    ]);
  }

  // Gateway API: a chat socket lives for hours; the route's request timeout must not cut it.
  for (const r of routes) {
    // the rule whose path prefix matches the socket's path longest is the one that routes it (Gateway API precedence)
    const matchLength = (x) => Math.max(-1, ...(x.matches ?? [{ path: { value: "/" } }])
      .map((m) => m.path?.value ?? "/").filter((p) => "/socket/websocket".startsWith(p)).map((p) => p.length));
    const longest = Math.max(-1, ...(r.spec?.rules ?? []).map(matchLength));
    const socketRules = longest < 0 ? [] : (r.spec?.rules ?? []).filter((x) => matchLength(x) === longest);
    check(`HTTPRoute ${r.metadata?.name}: sockets outlive its timeouts`, [
      socketRules.length === 0 && "no rule routes /socket/websocket",
      ...socketRules.flatMap((x) => Object.entries(x.timeouts ?? {}).map(([k, v]) => {
        const seconds = gatewayDurationSeconds(v);
        return seconds !== 0 && seconds < 3600 && `timeouts.${k} ${v} would cut chat sockets (0s turns it off; the gateway closes idle ones after 60 s)`;
      })),
      ...socketRules.map((x) => (x.timeouts?.request === undefined ? "the socket rule sets no timeouts.request: implementations default to 15 s or so for the whole request, socket included" : false)),
    ]);
  }

  if (overlay !== "dev") {
    const userEnv = containerEnv(deployments.find((d) => d.metadata.name === "user-service")?.spec?.template?.spec?.containers?.[0] ?? {}, configMaps);
    check("real mailer outside dev", [
      userEnv.get("QUARKUS_MAILER_MOCK")?.value !== "false" && "QUARKUS_MAILER_MOCK is not false",
      userEnv.get("CHAT_DEV_MAIL_PAGE_ENABLED")?.value === "true" && "the dev mail page is enabled",
    ]);
  }
  return results;
}

// ------------------------------------------------------------------ the Prometheus Operator's kinds
// kubernetes-models knows only Kubernetes' own kinds: PodMonitor and PrometheusRule get a light check of their own
// (the fields we use, required ones present, no unknown key), enough to catch a typo that would make the operator
// ignore them.

const DURATION = /^([0-9]+(ms|s|m|h|d))+$/;
const knownKeys = (obj, at, allowed) => Object.keys(obj ?? {}).filter((k) => !allowed.includes(k)).map((k) => `unknown key ${at}/${k}`);
const metadataProblems = (o) => [
  !o.metadata?.name && "metadata.name missing",
  ...knownKeys(o, "", ["apiVersion", "kind", "metadata", "spec"]),
  ...knownKeys(o.metadata, "/metadata", ["name", "namespace", "labels", "annotations"]),
];

function checkPodMonitor(o) {
  const spec = o.spec ?? {};
  const endpoints = spec.podMetricsEndpoints;
  return [
    ...metadataProblems(o),
    ...knownKeys(spec, "/spec", ["selector", "podMetricsEndpoints", "namespaceSelector", "jobLabel", "podTargetLabels"]),
    Object.keys(spec.selector?.matchLabels ?? {}).length === 0 && "spec.selector.matchLabels missing (an empty selector scrapes every pod)",
    (!Array.isArray(endpoints) || endpoints.length === 0) && "spec.podMetricsEndpoints missing",
    ...(Array.isArray(endpoints) ? endpoints : []).flatMap((e, i) => [
      ...knownKeys(e, `/spec/podMetricsEndpoints/${i}`, ["port", "path", "scheme", "interval", "scrapeTimeout", "relabelings", "metricRelabelings"]),
      typeof e.port !== "string" && `podMetricsEndpoints/${i}: port must name a container port`,
      e.path !== undefined && !String(e.path).startsWith("/") && `podMetricsEndpoints/${i}: path must start with /`,
      ...["interval", "scrapeTimeout"].map((k) => e[k] !== undefined && !DURATION.test(e[k]) && `podMetricsEndpoints/${i}: ${k} is not a duration`),
    ]),
  ];
}

function checkPrometheusRule(o) {
  const groups = o.spec?.groups;
  const names = new Set();
  return [
    ...metadataProblems(o),
    ...knownKeys(o.spec, "/spec", ["groups"]),
    (!Array.isArray(groups) || groups.length === 0) && "spec.groups missing",
    ...(Array.isArray(groups) ? groups : []).flatMap((g, i) => [
      ...knownKeys(g, `/spec/groups/${i}`, ["name", "interval", "rules"]),
      !g.name && `groups/${i}: name missing`,
      names.has(g.name) ? `groups/${i}: name ${g.name} repeated` : (names.add(g.name), false),
      (!Array.isArray(g.rules) || g.rules.length === 0) && `groups/${i}: rules missing`,
      ...(g.rules ?? []).flatMap((r, j) => [
        ...knownKeys(r, `/spec/groups/${i}/rules/${j}`, ["alert", "record", "expr", "for", "labels", "annotations"]),
        !r.alert === !r.record && `groups/${i}/rules/${j}: exactly one of alert and record`,
        (typeof r.expr !== "string" || !r.expr.trim()) && `groups/${i}/rules/${j}: expr missing`,
        r.for !== undefined && !DURATION.test(r.for) && `groups/${i}/rules/${j}: for is not a duration`,
        r.alert && !["critical", "warning", "info"].includes(r.labels?.severity) && `${r.alert}: labels.severity must be critical, warning or info`,
        r.alert && (!r.annotations?.summary || !r.annotations?.runbook) && `${r.alert}: annotations summary and runbook required`,
      ]),
    ]),
  ];
}

const CRD_CHECKS = {
  "monitoring.coreos.com/v1/PodMonitor": checkPodMonitor,
  "monitoring.coreos.com/v1/PrometheusRule": checkPrometheusRule,
};

// ------------------------------------------------------------------ running and reporting

let passed = 0;
let failed = 0;
function report(ok, line, problems = []) {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "PASS" : "FAIL"} ${line}${ok ? "" : `: ${problems.join("; ")}`}`);
}

async function renderAndCheck(dir, overlay, options) {
  const objects = parseObjects(render(dir));
  return { objects, results: await checkRendering(objects, overlay, options) };
}

const stderrOf = (e) => String(e.stderr || e.message).trim().split("\n").slice(-3).join(" ");

const renderings = [
  ...readdirSync(OVERLAYS).sort().map((overlay) => [overlay, path.join(OVERLAYS, overlay), {}]),
  ...Object.entries(SCHEMA_ONLY).map(([name, dir]) => [name, dir, { rules: false }]),
];
for (const [overlay, dir, options] of renderings) {
  let rendered;
  try {
    rendered = await renderAndCheck(dir, overlay, options);
    report(true, `[${overlay}] kubectl kustomize renders ${rendered.objects.length} objects`);
  } catch (e) {
    report(false, `[${overlay}] kubectl kustomize renders`, [stderrOf(e)]);
    continue;
  }
  for (const r of rendered.results) report(r.problems.length === 0, `[${overlay}] ${r.name}`, r.problems);
}

if (!args.has("--no-self-test")) {
  for (const fixture of readdirSync(FIXTURES).sort()) {
    const dir = path.join(FIXTURES, fixture);
    const text = readFileSync(path.join(dir, "kustomization.yaml"), "utf8");
    const expect = /^# expect: (.+)$/m.exec(text)?.[1]?.trim();
    // the overlay a fixture breaks: dev unless it says "# overlay: <name>" (the rules of prod differ)
    const base = /^# overlay: (\S+)$/m.exec(text)?.[1] ?? "dev";
    const line = `[self-test] fixtures/${fixture} is rejected by "${expect}"`;
    if (!expect) {
      report(false, line, ['the fixture has no "# expect: <check>" line']);
      continue;
    }
    let results;
    try {
      results = (await renderAndCheck(dir, base)).results; // every fixture is an overlay plus one defect
    } catch (e) {
      report(false, line, [`does not render: ${stderrOf(e)}`]);
      continue;
    }
    const failing = results.filter((r) => r.problems.length > 0);
    const hit = failing.find((r) => r.name.startsWith(expect));
    if (VERBOSE) for (const r of failing) console.log(`     ${fixture}: ${r.name}: ${r.problems.join("; ")}`);
    if (hit) report(true, `${line} (${hit.problems[0]})`);
    else report(false, line, [failing.length ? `only by: ${failing.map((r) => r.name).join(", ")}` : "nothing rejected it"]);
  }
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
