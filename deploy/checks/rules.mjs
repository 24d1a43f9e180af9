// The alert rules of the monitoring component, checked and unit-tested with promtool (Debian's "prometheus" package;
// .ci/run installs it): the rule groups are taken out of the PrometheusRule object (promtool reads plain rule files),
// then "promtool check rules" and "promtool test rules prometheus-rules.test.yaml". Prints one line per check, like
// validate.mjs; exits non-zero on a failure, or when promtool is missing unless PROMTOOL_OPTIONAL=1.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, "../kubernetes/components/monitoring/prometheus-rules.yaml");
const rule = YAML.parse(readFileSync(source, "utf8"));
let failed = 0;
const report = (ok, line, detail = "") => {
  console.log(`${ok ? "ok  " : "FAIL"} ${line}${ok || !detail ? "" : "\n" + detail.trim().replace(/^/gm, "       ")}`);
  if (!ok) failed++;
};

report(rule?.kind === "PrometheusRule" && Array.isArray(rule?.spec?.groups) && rule.spec.groups.length > 0,
  "prometheus rules: a PrometheusRule with rule groups");
mkdirSync(join(here, ".rules"), { recursive: true });
const rules = join(here, ".rules/company-chat.rules.yaml");
writeFileSync(rules, YAML.stringify({ groups: rule.spec.groups }));

const promtool = spawnSync("promtool", ["--version"], { encoding: "utf8" });
if (promtool.error) {
  report(process.env.PROMTOOL_OPTIONAL === "1", "prometheus rules: promtool found (apt-get install prometheus)");
} else {
  for (const args of [["check", "rules", rules], ["test", "rules", "prometheus-rules.test.yaml"]]) {
    const run = spawnSync("promtool", args, { cwd: here, encoding: "utf8" });
    report(run.status === 0, `prometheus rules: promtool ${args.slice(0, 2).join(" ")}`, run.stdout + run.stderr);
  }
}
process.exit(failed ? 1 : 0);
