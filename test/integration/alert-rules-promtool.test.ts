import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { runCommand } from "../support/run-command.js";
import { REPO_ROOT, testAssets } from "../support/test-assets.js";

const CHART = join(REPO_ROOT, "charts/vmkeeper");
const SEL = 'job="vmk-vmkeeper-metrics", namespace="vmk"';
const TARGET = { job: "vmk-vmkeeper-metrics", namespace: "vmk" };

interface Rule { alert?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
interface RuleGroup { name: string; rules: Rule[] }

/** Alert unit tests for `promtool test rules`: each alert fires (or stays silent) on the series that should make it. */
function alertTests(): unknown {
  const alert = (name: string, at: string, labels: Record<string, string>[]): unknown => ({ alertname: name, eval_time: at, exp_alerts: labels.map((l) => ({ exp_labels: l })) });
  return {
    rule_files: ["rules-no-annotations.yaml"],
    evaluation_interval: "1m",
    tests: [
      {
        // Both replicas standing by: nobody leads.
        interval: "1m",
        input_series: [
          { series: `leader_election_master_status{${SEL}, name="vmkeeper-operator", pod="a"}`, values: "0x20" },
          { series: `leader_election_master_status{${SEL}, name="vmkeeper-operator", pod="b"}`, values: "0x20" },
        ],
        alert_rule_test: [alert("VmkeeperNoLeader", "3m", []), alert("VmkeeperNoLeader", "10m", [{ severity: "critical" }])],
      },
      {
        // The leader metric is absent altogether (operator gone): still no leader.
        interval: "1m",
        input_series: [{ series: `up{${SEL}, pod="a"}`, values: "0x20" }],
        alert_rule_test: [alert("VmkeeperNoLeader", "10m", [{ severity: "critical" }])],
      },
      {
        // One replica leads: silent.
        interval: "1m",
        input_series: [
          { series: `leader_election_master_status{${SEL}, name="vmkeeper-operator", pod="a"}`, values: "1x20" },
          { series: `leader_election_master_status{${SEL}, name="vmkeeper-operator", pod="b"}`, values: "0x20" },
        ],
        alert_rule_test: [alert("VmkeeperNoLeader", "10m", [])],
      },
      {
        interval: "1m",
        input_series: [
          // Two replicas report the same cached incident: one alert, age above 1800 s from minute 2.
          { series: `vmkeeper_incident_oldest_open_seconds{${SEL}, exported_namespace="openstack", cloud="lab", pod="a"}`, values: "1700+60x20" },
          { series: `vmkeeper_incident_oldest_open_seconds{${SEL}, exported_namespace="openstack", cloud="lab", pod="b"}`, values: "1700+60x20" },
          { series: `vmkeeper_incident_oldest_open_seconds{${SEL}, exported_namespace="openstack", cloud="young", pod="a"}`, values: "60+60x20" },
        ],
        alert_rule_test: [
          alert("VmkeeperIncidentStuck", "5m", []),
          alert("VmkeeperIncidentStuck", "8m", [{ ...TARGET, exported_namespace: "openstack", cloud: "lab", severity: "critical" }]),
        ],
      },
      {
        interval: "1m",
        input_series: [
          { series: `vmkeeper_safety_gate_closed{${SEL}, cloud="lab", gate="StormThreshold", pod="a"}`, values: "1x30" },
          { series: `vmkeeper_safety_gate_closed{${SEL}, cloud="lab", gate="Paused", pod="a"}`, values: "1x30" },
          { series: `vmkeeper_safety_gate_closed{${SEL}, cloud="lab", gate="HeartbeatCliff", pod="a"}`, values: "0x30" },
        ],
        alert_rule_test: [
          alert("VmkeeperSafetyGateClosed", "10m", []),
          alert("VmkeeperSafetyGateClosed", "20m", [{ ...TARGET, cloud: "lab", gate: "StormThreshold", severity: "critical" }]),
        ],
      },
      {
        interval: "1m",
        input_series: [
          { series: `vmkeeper_failover_capacity_sufficient{${SEL}, exported_namespace="openstack", policy="web", pod="a"}`, values: "0x40" },
          { series: `vmkeeper_failover_capacity_sufficient{${SEL}, exported_namespace="openstack", policy="db", pod="a"}`, values: "1x40" },
          { series: `vmkeeper_fencing_unfenceable_hosts{${SEL}, exported_namespace="openstack", hostfencing="rack-a", pod="a", endpoint="metrics"}`, values: "2x40" },
        ],
        alert_rule_test: [
          alert("VmkeeperFailoverCapacityInsufficient", "35m", [{ ...TARGET, exported_namespace: "openstack", policy: "web", severity: "warning" }]),
          alert("VmkeeperHostUnfenceable", "15m", [{ ...TARGET, exported_namespace: "openstack", hostfencing: "rack-a", severity: "critical" }]),
        ],
      },
      {
        interval: "1m",
        input_series: [
          { series: `vmkeeper_incidents_total{${SEL}, type="HostFailure", result="Failed", pod="a"}`, values: "0 0 0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1" },
          { series: `vmkeeper_incidents_total{${SEL}, type="HostFailure", result="Recovered", pod="a"}`, values: "0+1x40" },
        ],
        alert_rule_test: [
          alert("VmkeeperIncidentFailed", "2m", []),
          alert("VmkeeperIncidentFailed", "5m", [{ ...TARGET, type: "HostFailure", result: "Failed", severity: "critical" }]),
          alert("VmkeeperIncidentFailed", "40m", []),
        ],
      },
    ],
  };
}

describe("chart alert rules under promtool (Prometheus' own rule checker)", function () {
  this.timeout(3_600_000);
  let promtool: string;
  let dir: string;
  let groups: RuleGroup[];

  before(async function () {
    // A first build from the Go module proxy takes minutes; later runs use the cached binary.
    const built = await runCommand("bash", [join(REPO_ROOT, "hack/install-promtool.sh")]);
    assert.equal(built.code, 0, built.stderr);
    promtool = built.stdout.trim().split("\n").pop() ?? "";
    const assets = await testAssets();
    const res = await runCommand(assets.helm, ["template", "vmk", CHART, "--namespace", "vmk", "--set", "metrics.prometheusRule.enabled=true", "--show-only", "templates/prometheusrule.yaml"]);
    assert.equal(res.code, 0, res.stderr);
    const rule = parseAllDocuments(res.stdout).map((d) => d.toJSON() as { spec: { groups: RuleGroup[] } } | null).find((o) => o?.spec);
    assert.ok(rule);
    groups = rule.spec.groups;
    dir = mkdtempSync(join(tmpdir(), "vmk-promtool-"));
    writeFileSync(join(dir, "rules.yaml"), stringify({ groups }));
    // Annotations are checked by `check rules` (template syntax); the behaviour tests compare labels only.
    writeFileSync(join(dir, "rules-no-annotations.yaml"), stringify({ groups: groups.map((g) => ({ ...g, rules: g.rules.map(({ annotations: _a, ...r }) => r) })) }));
  });

  it("accepts every rule and annotation template (promtool check rules)", async () => {
    const res = await runCommand(promtool, ["check", "rules", join(dir, "rules.yaml")]);
    assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
    const count = groups.reduce((n, g) => n + g.rules.length, 0);
    assert.match(res.stdout, new RegExp(`SUCCESS: ${count} rules found`));
  });

  it("fires each alert on the series that should make it fire, and only then (promtool test rules)", async () => {
    writeFileSync(join(dir, "tests.yaml"), stringify(alertTests()));
    const res = await runCommand(promtool, ["test", "rules", join(dir, "tests.yaml")]);
    assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
  });

  it("fails a rule test whose expectation is wrong (self-check)", async () => {
    const wrong = { rule_files: ["rules-no-annotations.yaml"], evaluation_interval: "1m", tests: [{ interval: "1m", input_series: [{ series: `leader_election_master_status{${SEL}, name="x", pod="a"}`, values: "1x20" }], alert_rule_test: [{ alertname: "VmkeeperNoLeader", eval_time: "10m", exp_alerts: [{ exp_labels: { severity: "critical" } }] }] }] };
    writeFileSync(join(dir, "wrong.yaml"), stringify(wrong));
    const res = await runCommand(promtool, ["test", "rules", join(dir, "wrong.yaml")]);
    assert.notEqual(res.code, 0, "promtool accepted an alert that cannot fire");
  });

  it("refuses a broken expression (self-check)", async () => {
    writeFileSync(join(dir, "broken.yaml"), stringify({ groups: [{ name: "x", rules: [{ alert: "Broken", expr: "sum by (x (up)" }] }] }));
    const res = await runCommand(promtool, ["check", "rules", join(dir, "broken.yaml")]);
    assert.notEqual(res.code, 0);
  });
});
