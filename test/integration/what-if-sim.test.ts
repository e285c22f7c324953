import assert from "node:assert/strict";
import { PassThrough, Readable } from "node:stream";
import { runCli } from "../../src/cli/run-cli.js";
import { SeededRandom } from "../../src/sim/seeded-random.js";
import type { ServerSpec } from "../../src/sim/nova-model.js";
import type { WhatIfReport } from "../../src/what-if/what-if.js";
import { cloudManifests } from "../support/cloud-manifests.js";
import { eventually } from "../support/eventually.js";
import { startOperatorProcess, type OperatorProcess } from "../support/operator-process.js";
import { startSimulatedCloud, type SimulatedCloud } from "../support/simulated-cloud.js";
import { sharedTestEnv, type TestEnv } from "../support/test-env.js";

interface IncidentView {
  metadata: { name: string };
  spec: { hostRef: { name: string } };
  status?: { phase?: string; gate?: { name?: string }; instances?: { id: string; name?: string; state: string; attempts?: number; startedAt?: string; targetHost?: string }[] };
}

/** A generated cloud: hosts, servers, the policy's recovery settings, and which hosts fail. */
interface Scenario {
  name: string;
  hosts: number;
  servers: ServerSpec[];
  recovery: string;
  storm?: string;
  fail: string[];
}

/** Hosts of 16 GiB: small enough that placement decides, big enough for a handful of VMs each. */
const HOST_SIZE = { vcpus: 16, memoryMb: 16_384, localGb: 400 };
const FLAVORS = ["1", "2", "3"]; // m1.tiny, m1.small, m1.medium

/**
 * Servers for a generated cloud from a seed: `onFailing` protected VMs (names db-* go to the
 * databases tier) and one unprotected VM on compute-1, and up to three VMs on each other host.
 */
function generate(seed: string, hosts: number, onFailing: number): ServerSpec[] {
  const rng = new SeededRandom(seed);
  const out: ServerSpec[] = [];
  for (let i = 0; i < onFailing; i++) out.push({ name: `${rng.chance(0.3) ? "db" : "app"}-${i + 1}`, host: "compute-1", tags: ["ha"], flavorId: FLAVORS[rng.int(FLAVORS.length)] ?? "2" });
  out.push({ name: "scratch-1", host: "compute-1", flavorId: "1" });
  for (let h = 2; h <= hosts; h++) for (let i = 0; i < rng.int(4); i++) out.push({ name: `other-${h}-${i}`, host: `compute-${h}`, tags: rng.chance(0.5) ? ["ha"] : [], flavorId: FLAVORS[rng.int(FLAVORS.length)] ?? "2" });
  return out;
}

const SCENARIOS: Scenario[] = [
  { name: "generated-a", hosts: 4, servers: generate("what-if-a", 4, 5), recovery: "{unsafeSkipPowerFencing: true, localDisk: RebuildFromImage, maxConcurrentEvacuations: 2}", fail: ["sim-cloud.compute-1"] },
  { name: "generated-b", hosts: 5, servers: generate("what-if-b", 5, 6), recovery: "{unsafeSkipPowerFencing: true, localDisk: RebuildFromImage, lockInstances: false}", fail: ["sim-cloud.compute-1"] },
  {
    // big-1 (8 GiB) cannot fit: every other host keeps 8 GiB of its 16 (and 512 MiB reserved) in use.
    name: "does-not-fit",
    hosts: 3,
    servers: [
      { name: "big-1", host: "compute-1", tags: ["ha"], flavorId: "4" },
      { name: "db-1", host: "compute-1", tags: ["ha"], flavorId: "2" },
      { name: "app-1", host: "compute-1", tags: ["ha"], flavorId: "2" },
      { name: "fill-2a", host: "compute-2", flavorId: "3" },
      { name: "fill-2b", host: "compute-2", flavorId: "3" },
      { name: "fill-3a", host: "compute-3", flavorId: "3" },
      { name: "fill-3b", host: "compute-3", flavorId: "3" },
    ],
    recovery: "{unsafeSkipPowerFencing: true, localDisk: RebuildFromImage}",
    fail: ["sim-cloud.compute-1"],
  },
  {
    // Two of four hosts at once: a safety gate holds both back (the heartbeat cliff, or the storm threshold).
    name: "gate-blocks",
    hosts: 4,
    servers: [
      { name: "app-1", host: "compute-1", tags: ["ha"] },
      { name: "app-2", host: "compute-2", tags: ["ha"] },
    ],
    recovery: "{unsafeSkipPowerFencing: true, localDisk: RebuildFromImage}",
    storm: `maxUnhealthy: 1`,
    fail: ["sim-cloud.compute-1", "sim-cloud.compute-2"],
  },
];

/** Runs the CLI in-process and returns its exit status and output. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks: string[] = [];
  const errChunks: string[] = [];
  out.on("data", (c: Buffer) => chunks.push(c.toString()));
  err.on("data", (c: Buffer) => errChunks.push(c.toString()));
  const code = await runCli("vmkeeper", args, { stdout: out, stderr: err, stdin: Readable.from([]), env: {}, cwd: process.cwd() });
  return { code, stdout: chunks.join(""), stderr: errChunks.join("") };
}

/**
 * The order in which the operator started the evacuations, from the Incident: by each
 * instance's recorded startedAt (its last evacuation attempt), and within the same instant —
 * one batch, sent together under one intent — in the Incident's own order, which is the
 * planner's order (tier, then name).
 */
function startOrder(inc: IncidentView): string[] {
  const list = inc.status?.instances ?? [];
  return list
    .map((i, n) => ({ i, n }))
    .filter(({ i }) => (i.attempts ?? 0) > 0 && i.startedAt)
    .sort((a, b) => Date.parse(a.i.startedAt ?? "") - Date.parse(b.i.startedAt ?? "") || a.n - b.n)
    .map(({ i }) => i.name ?? i.id);
}

/** The predicted order of the same: each instance at its last evacuation attempt. */
function predictedOrder(report: WhatIfReport, host: string): string[] {
  const evacs = report.hosts.find((h) => h.host === host)?.evacuations ?? [];
  const last = new Map<string, number>();
  for (const e of evacs) last.set(e.name, e.seq);
  return [...last].sort((a, b) => a[1] - b[1]).map(([n]) => n);
}

describe("what-if agrees with what the operator does (real API server + simulator)", function () {
  this.timeout(600_000);
  let env: TestEnv;

  before(async () => {
    env = await sharedTestEnv();
  });

  for (const sc of SCENARIOS) {
    describe(sc.name, () => {
      let cloud: SimulatedCloud;
      let op: OperatorProcess;
      let ns: string;
      let report: WhatIfReport;

      before(async () => {
        ns = await env.createNamespace("whatif");
        cloud = await startSimulatedCloud({ cloudName: "sim-cloud", hosts: sc.hosts, replicas: 1, workDir: env.workDir, serviceDownTimeSeconds: 60, hostSize: HOST_SIZE });
        cloud.sim.nova.addServers(sc.servers);
        await env.apply(ns, `${cloudManifests({ name: "sim-cloud", secretName: "sim-clouds", cloudsYaml: cloud.cloudsYaml, cloudName: "sim", recheckIntervalSeconds: 10 })}---
apiVersion: ha.vmkeeper.dev/v1alpha1
kind: InstanceHAPolicy
metadata: {name: tagged-ha}
spec:
  cloudRef: {name: sim-cloud}
  mode: KeepRunning
  selector: {tags: [ha]}
  recovery: ${sc.recovery}
  priorityTiers:
    - {name: databases, priority: 100, selector: {nameGlobs: ["db-*"]}, readinessTimeoutSeconds: 30}
  hostMonitoring: {heartbeatIntervalMilliseconds: 200, missedHeartbeats: 3, confirmationWindowSeconds: 2}
  stormProtection: {startupGraceSeconds: 0${sc.storm ? `, ${sc.storm}` : ""}}
`);
        op = await startOperatorProcess({
          kubeconfig: env.kubeconfigFor("operator-a"),
          identity: "vmkeeper-a",
          namespace: ns,
          logDir: env.workDir,
          extraArgs: [`--heartbeat-bind-address=127.0.0.1:${cloud.heartbeatPorts[0] ?? 0}`, `--heartbeat-key-file=${cloud.keyFile}`, "--monitor-interval-ms=200"],
        });
        const protectedCount = sc.servers.filter((s) => s.tags?.includes("ha")).length;
        await eventually(async () => {
          const hosts = JSON.parse((await env.kubectl(["get", "computehosts", "-n", ns, "-o", "json"])).stdout) as { items: { status?: { health?: { state?: string } } }[] };
          assert.equal(hosts.items.length, sc.hosts);
          for (const h of hosts.items) assert.equal(h.status?.health?.state, "Healthy");
          assert.equal((await env.kubectl(["get", "instancehapolicy", "tagged-ha", "-n", ns, "-o", "jsonpath={.status.protectedCount}"])).stdout.trim(), String(protectedCount));
        }, 60_000, 500);
      });

      after(async () => {
        await op?.proc.stop();
        await cloud?.stop();
      });

      it("what-if predicts the recovery without changing anything", async () => {
        const before = JSON.stringify(await cloud.nova.listServers({}));
        // Its own user (operator-c, used by nothing else here), so the audit log shows what it wrote: nothing.
        const kubeconfig = env.kubeconfigFor("operator-c");
        const r = await cli(["what-if", ...sc.fail.flatMap((h) => ["--host", h]), "-n", ns, "--kubeconfig", kubeconfig, "--cpu-allocation-ratio", "4", "-o", "json"]);
        assert.equal(r.code, 0, r.stderr);
        report = JSON.parse(r.stdout) as WhatIfReport;
        const text = await cli(["what-if", ...sc.fail.flatMap((h) => ["--host", h.replace(/^sim-cloud\./, "")]), "-n", ns, "--kubeconfig", kubeconfig, "--cpu-allocation-ratio", "4"]);
        assert.equal(text.code, 0, text.stderr);
        assert.match(text.stdout, /Nothing was changed/);
        const unknown = await cli(["what-if", "--host", "compute-99", "-n", ns, "--kubeconfig", kubeconfig]);
        assert.equal(unknown.code, 2);
        assert.match(unknown.stderr, /no ComputeHost "compute-99"/);
        assert.deepEqual(env.auditEvents().filter((e) => e.user.username.includes("operator-c") && e.objectRef?.namespace === ns), [], "what-if wrote nothing to the API server");
        assert.equal(JSON.stringify(await cloud.nova.listServers({})), before, "Nova is untouched");
        assert.equal((JSON.parse((await env.kubectl(["get", "incidents", "-n", ns, "-o", "json"])).stdout) as { items: unknown[] }).items.length, 0, "no Incident was created");
      });

      it("the failed host's recovery matches the prediction: the same VMs, in the same order, with the same outcome", async () => {
        for (const h of sc.fail) cloud.killHost(h.replace(/^sim-cloud\./, ""));
        const incidents = await eventually(async () => {
          const list = (JSON.parse((await env.kubectl(["get", "incidents", "-n", ns, "-o", "json"])).stdout) as { items: IncidentView[] }).items;
          assert.equal(list.length, sc.fail.length);
          for (const inc of list) assert.ok(["Recovered", "Failed", "Suppressed"].includes(inc.status?.phase ?? ""), `${inc.metadata.name}: ${inc.status?.phase ?? "?"}`);
          return list;
        }, 120_000, 500);
        for (const host of sc.fail) {
          const inc = incidents.find((i) => i.spec.hostRef.name === host);
          const predicted = report.hosts.find((h) => h.host === host);
          assert.ok(inc && predicted, host);
          if (inc.status?.phase === "Suppressed") {
            assert.equal(predicted.verdict.kind, "suppressed", `what-if said ${predicted.verdict.kind}`);
            assert.equal(predicted.verdict.kind === "suppressed" ? predicted.verdict.gate.gate : "", inc.status.gate?.name, "the same gate");
            assert.deepEqual(predicted.evacuations, []);
            continue;
          }
          assert.equal(predicted.verdict.kind, "open");
          const actual = startOrder(inc);
          assert.deepEqual(predictedOrder(report, host), actual, "evacuation order");
          const states = (list: { name?: string; id: string; state: string }[]): string[] => list.map((i) => `${i.name ?? i.id}=${i.state}`).sort();
          assert.deepEqual(states(predicted.outcomes), states(inc.status?.instances ?? []), "per-instance outcome");
          const targets = (inc.status?.instances ?? []).filter((i) => i.state === "Recovered").map((i) => `${i.name ?? ""}->${i.targetHost ?? ""}`);
          const guessed = predicted.evacuations.filter((e) => e.outcome === "placed").map((e) => `${e.name}->${e.target ?? ""}`);
          console.log(`      ${sc.name}: order ${actual.join(", ")}; targets ${targets.sort().join(", ")} (what-if guessed ${guessed.sort().join(", ")})`);
        }
        if (sc.name === "does-not-fit") {
          const h = report.hosts[0];
          assert.deepEqual(h?.evacuations.filter((e) => e.outcome === "noValidHost").map((e) => e.name), ["big-1"], "what-if says big-1 does not fit");
        }
        if (sc.name === "gate-blocks") assert.ok(report.closedGates.length > 0, "what-if names the closed gate");
      });
    });
  }
});
