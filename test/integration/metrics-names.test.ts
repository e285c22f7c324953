import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { eventually } from "../support/eventually.js";
import { freePort } from "../support/free-port.js";
import { freeUdpPort } from "../support/free-udp-port.js";
import { writeHeartbeatKeyFile } from "../support/heartbeat-key-file.js";
import { startOperatorProcess, type OperatorProcess } from "../support/operator-process.js";
import { exposedMetrics, promqlMetricNames, seriesNames, type ExposedMetric } from "../support/promql-metric-names.js";
import { runCommand } from "../support/run-command.js";
import { selfSignedCert } from "../support/self-signed-cert.js";
import { REPO_ROOT } from "../support/test-assets.js";
import { sharedTestEnv, type TestEnv } from "../support/test-env.js";

const DASHBOARD = join(REPO_ROOT, "config/grafana/vmkeeper-dashboard.json");
const CHART = join(REPO_ROOT, "charts/vmkeeper");
const MONITORING_DOC = join(REPO_ROOT, "docs/monitoring.md");
/** Series Prometheus itself adds to every scrape target, not exposed by the operator. */
const SCRAPE_SERIES = new Set(["up"]);

interface Panel { title?: string; panels?: Panel[]; targets?: { expr?: string }[] }
interface Dashboard { panels: Panel[]; templating: { list: { name: string; query?: string | { query?: string } }[] } }
interface Rule { alert?: string; record?: string; expr: string }
interface PrometheusRule { kind: string; spec: { groups: { rules: Rule[] }[] } }

/** Every PromQL expression of the dashboard (panel targets and variable queries), with where it is. */
function dashboardExpressions(d: Dashboard): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  const walk = (panels: Panel[]): void => {
    for (const p of panels) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ where: `panel "${p.title ?? "?"}"`, expr: t.expr });
      walk(p.panels ?? []);
    }
  };
  walk(d.panels);
  for (const v of d.templating.list) {
    const q = typeof v.query === "string" ? v.query : v.query?.query;
    if (q && /\(/.test(q)) out.push({ where: `variable $${v.name}`, expr: q });
  }
  return out;
}

async function ruleExpressions(helmPath: string): Promise<{ where: string; expr: string }[]> {
  const res = await runCommand(helmPath, ["template", "vmk", CHART, "--namespace", "vmk", "--set", "metrics.prometheusRule.enabled=true"]);
  assert.equal(res.code, 0, res.stderr);
  const rules = parseAllDocuments(res.stdout)
    .map((d) => d.toJSON() as PrometheusRule | null)
    .filter((o): o is PrometheusRule => o?.kind === "PrometheusRule")
    .flatMap((o) => o.spec.groups.flatMap((g) => g.rules));
  assert.ok(rules.length >= 10, `only ${rules.length} rules rendered`);
  return rules.map((r) => ({ where: `rule ${r.alert ?? r.record ?? "?"}`, expr: r.expr }));
}

describe("metric names of the dashboard and alert rules exist in the operator's /metrics (real API server)", function () {
  this.timeout(180_000);
  let env: TestEnv;
  let op: OperatorProcess;
  let families: ExposedMetric[];
  let series: Set<string>;

  before(async function () {
    env = await sharedTestEnv();
    const ns = await env.createNamespace("metrics-names");
    const tls = selfSignedCert();
    const tokenFile = join(tls.dir, "tokens");
    writeFileSync(tokenFile, "metrics-names-test-token\n");
    // Every optional receiver on, so that their series are registered too.
    op = await startOperatorProcess({
      kubeconfig: env.kubeconfigFor("operator-a"),
      identity: "metrics-a",
      namespace: ns,
      logDir: env.workDir,
      extraArgs: [
        `--heartbeat-bind-address=127.0.0.1:${await freeUdpPort()}`,
        `--heartbeat-key-file=${writeHeartbeatKeyFile(env.workDir)}`,
        `--kdump-bind-address=127.0.0.1:${await freeUdpPort()}`,
        `--agent-reports-bind-address=127.0.0.1:${await freePort()}`,
        `--agent-reports-tls-cert-file=${tls.certFile}`,
        `--agent-reports-tls-key-file=${tls.keyFile}`,
        `--agent-reports-token-file=${tokenFile}`,
      ],
    });
    // Controllers (and their series) start once this replica leads; no object exists yet.
    const text = await eventually(async () => {
      const t = await op.metrics();
      assert.match(t, /^leader_election_master_status\{name="[^"]+"\} 1$/m);
      assert.match(t, /^# TYPE workqueue_depth gauge$/m);
      return t;
    }, 60_000, 500);
    families = exposedMetrics(text);
    series = new Set(families.flatMap(seriesNames));
  });

  after(async () => {
    await op.proc.stop("SIGTERM");
  });

  const check = (sources: { where: string; expr: string }[]): void => {
    assert.ok(sources.length > 0);
    const missing = sources.flatMap(({ where, expr }) =>
      promqlMetricNames(expr).filter((n) => !series.has(n) && !SCRAPE_SERIES.has(n)).map((n) => `${where}: ${n}`));
    assert.deepEqual(missing, [], `names not in /metrics:\n${missing.join("\n")}`);
  };

  it("exposes the series every alert rule of the chart reads", async () => {
    check(await ruleExpressions(env.helmPath));
  });

  it("exposes the series every panel and variable of the Grafana dashboard reads", () => {
    const exprs = dashboardExpressions(JSON.parse(readFileSync(DASHBOARD, "utf8")) as Dashboard);
    assert.ok(exprs.length >= 20, `only ${exprs.length} expressions`);
    check(exprs);
  });

  it("detects a name the operator does not expose (self-check)", () => {
    assert.throws(() => check([{ where: "self-check", expr: "sum(rate(vmkeeper_no_such_metric_total[5m])) > vmkeeper_hosts" }]), /vmkeeper_no_such_metric_total/);
  });

  it("documents every operator metric in docs/monitoring.md with its type", () => {
    const doc = readFileSync(MONITORING_DOC, "utf8");
    const ours = families.filter((f) => !f.name.startsWith("vmkeeper_process_"));
    const undocumented = ours.filter((f) => !new RegExp(`^\\| \`${f.name}\` \\| ${f.type} \\|`, "m").test(doc)).map((f) => `${f.name} (${f.type})`);
    assert.deepEqual(undocumented, [], `add rows "| \`name\` | type | labels | meaning |" for:\n${undocumented.join("\n")}`);
  });
});
