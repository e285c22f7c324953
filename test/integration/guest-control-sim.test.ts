import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAgentProcess, startReportingOperator } from "../support/agent-process.js";
import { cloudManifests } from "../support/cloud-manifests.js";
import { eventually, sleep } from "../support/eventually.js";
import type { ManagedProcess } from "../support/managed-process.js";
import type { OperatorProcess } from "../support/operator-process.js";
import { ensureGuestBinary, GuestApp, startGuestProcess, VirtioSerialPair } from "../support/sgm-guests.js";
import { startSimulatedCloud, type SimulatedCloud } from "../support/simulated-cloud.js";
import { sharedTestEnv, type TestEnv } from "../support/test-env.js";

const TOKEN = "guest-control-agent-token";

/** The policy protecting `fast-vm`, with the given guestMonitoring sensitivity fields. */
const policyYaml = (sensitivity: string): string => `apiVersion: ha.vmkeeper.dev/v1alpha1
kind: InstanceHAPolicy
metadata: {name: fast}
spec:
  cloudRef: {name: sim-cloud}
  mode: KeepRunning
  selector: {tags: [fast]}
  guestMonitoring: {enabled: true, ${sensitivity}, action: Reboot, minUptimeSeconds: 0, voteTimeoutSeconds: 8}
  appMonitoring: {enabled: true, failureThreshold: 2, action: Reboot, gracePeriodSeconds: 0}
`;

interface GuestStatus {
  state?: string;
  intervalMs?: number;
  threshold?: number;
  health?: string;
}

describe("guest control: per-policy heartbeat settings and votes (real vmkeeper-guest, real node agent, operator, simulator)", function () {
  this.timeout(300_000);
  let env: TestEnv;
  let cloud: SimulatedCloud;
  let ns: string;
  let op: OperatorProcess;
  let agent: ManagedProcess;
  const guests: ManagedProcess[] = [];
  const pairs: VirtioSerialPair[] = [];
  const ids = new Map<string, string>();
  let dir: string;
  let db: GuestApp;

  before(async () => {
    await ensureGuestBinary();
    env = await sharedTestEnv();
    ns = await env.createNamespace("guestctl");
    cloud = await startSimulatedCloud({ cloudName: "sim-cloud", hosts: 1, workDir: env.workDir });
    for (const s of cloud.sim.nova.addServers([{ name: "fast-vm", host: "compute-1", tags: ["fast"] }, { name: "plain-vm", host: "compute-1" }])) ids.set(s.name, s.id);
    dir = mkdtempSync(join(tmpdir(), "vmk-gc-"));
    const reporting = await startReportingOperator({ env, cloud, namespace: ns, identity: "gc-op", token: TOKEN });
    op = reporting.op;
    const lines: string[] = [];
    for (const name of ["fast-vm", "plain-vm"]) {
      const pair = new VirtioSerialPair(join(dir, `${name}-host.sock`), join(dir, `${name}-guest.sock`));
      await pair.start();
      pairs.push(pair);
      lines.push(`${ids.get(name)} ${pair.hostPath}`);
      guests.push(startGuestProcess(pair.guestPath, join(dir, `${name}-app.sock`), join(env.workDir, `gc-guest-${name}.log`)));
    }
    const file = join(dir, "compute-1.channels");
    writeFileSync(file, `${lines.join("\n")}\n`);
    agent = await startAgentProcess({ cloud: "sim-cloud", host: "compute-1", keyFile: cloud.keyFile, reportUrl: reporting.reportUrl, tokenFile: reporting.agentTokenFile, libvirtUri: "off", logPath: join(env.workDir, "gc-agent.log"), extraArgs: [`--guest-channels-file=${file}`, "--guest-interval-ms=1000", "--guest-threshold=3"] });
    await env.apply(ns, `${cloudManifests({ name: "sim-cloud", secretName: "sim-clouds", cloudsYaml: cloud.cloudsYaml, cloudName: "sim", recheckIntervalSeconds: 10 })}---
${policyYaml("sensitivity: Custom, intervalMilliseconds: 400, failureThreshold: 2")}`);
  });

  after(async () => {
    db?.close();
    for (const g of guests) await g.stop();
    await agent?.stop();
    await op?.proc.stop();
    for (const p of pairs) await p.stop();
    await cloud?.stop();
  });

  const guestStatus = async (name: string): Promise<GuestStatus> => {
    const app = await GuestApp.connect(join(dir, `${name}-app.sock`));
    try {
      const r = await app.call({ op: "status" });
      return (r.status ?? {});
    } finally {
      app.close();
    }
  };
  const id = (name: string): string => ids.get(name) ?? assert.fail(name);
  const reboots = (name: string): number => cloud.sim.nova.listInstanceActions({ userId: "test", projectId: "admin", isAdmin: true, requestId: "req-test" }, id(name)).filter((a) => a.action === "reboot").length;
  const events = async (reason: string): Promise<string[]> => {
    const r = await env.kubectl(["get", "events", "-n", ns, "--field-selector", `reason=${reason}`, "-o", "jsonpath={range .items[*]}{.message}{\"\\n\"}{end}"]);
    return r.stdout.split("\n").filter((l) => l.trim() !== "");
  };

  it("the protected guest negotiates its policy's Custom interval and threshold; the unprotected one keeps the agent's own", async () => {
    await eventually(async () => {
      const s = await guestStatus("fast-vm");
      assert.deepEqual([s.state, s.intervalMs, s.threshold], ["Active", 400, 2]);
    }, 60_000, 300);
    const plain = await guestStatus("plain-vm");
    assert.deepEqual([plain.intervalMs, plain.threshold], [1000, 3]);
  });

  it("a policy change to the High preset is negotiated again on the live channel", async () => {
    await env.apply(ns, policyYaml("sensitivity: High"));
    await eventually(async () => {
      const s = await guestStatus("fast-vm");
      assert.deepEqual([s.state, s.intervalMs, s.threshold], ["Active", 1000, 3]);
    }, 60_000, 300);
  });

  it("an application failure asks the guest first: a refusal holds the reboot and is an Event; an acceptance lets it go ahead", async () => {
    db = await GuestApp.connect(join(dir, "fast-vm-app.sock"));
    assert.equal((await db.call({ op: "register", app: "db" })).ok, true);
    assert.equal((await db.call({ op: "health", health: "unhealthy", reason: "replication stopped" })).ok, true);
    const request = async (after: number) => {
      let found: Record<string, unknown> | undefined;
      await eventually(() => {
        found = db.pushes.slice(after).find((p) => p.event === "vote-request");
        assert.ok(found, "a vote request reached the application");
      }, 60_000, 200);
      return found ?? assert.fail();
    };
    const first = await request(0);
    assert.equal(first.action, "reboot");
    assert.equal((await db.call({ op: "vote", actionId: first.actionId, vote: "refuse", reason: "draining connections" })).ok, true);
    await eventually(async () => {
      const refused = await events("GuestActionRefused");
      assert.equal(refused.length, 1);
      assert.match(refused[0] ?? "", /fast-vm.*draining connections/);
    }, 30_000, 300);
    assert.equal(reboots("fast-vm"), 0, "no reboot while the guest refuses");

    // Healthy again, then failing again: a new report, a new question, accepted this time.
    const seen = db.pushes.length;
    assert.equal((await db.call({ op: "health", health: "healthy" })).ok, true);
    await eventually(async () => assert.equal((await guestStatus("fast-vm")).health, "healthy"), 10_000, 200);
    // Two challenges (1 s apart) answered healthy: the host has seen the recovery and reported it.
    await sleep(2500);
    assert.equal((await db.call({ op: "health", health: "unhealthy", reason: "replication stopped again" })).ok, true);
    const second = await request(seen);
    assert.notEqual(second.actionId, first.actionId);
    assert.equal((await db.call({ op: "vote", actionId: second.actionId, vote: "accept" })).ok, true);
    await eventually(() => assert.equal(reboots("fast-vm"), 1), 30_000, 300);
    const rebooted = await events("GuestRebooted");
    assert.match(rebooted.join("\n"), /the guest accepted it/);
    assert.equal(reboots("plain-vm"), 0);
  });
});
