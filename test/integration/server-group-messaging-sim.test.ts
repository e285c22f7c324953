import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAgentProcess, startReportingOperator } from "../support/agent-process.js";
import { cloudManifests } from "../support/cloud-manifests.js";
import { eventually, sleep } from "../support/eventually.js";
import type { ManagedProcess } from "../support/managed-process.js";
import type { OperatorProcess } from "../support/operator-process.js";
import { ensureGuestBinary, GuestApp, startGuestProcess, VirtioSerialPair, type AppMessage } from "../support/sgm-guests.js";
import { startSimulatedCloud, type SimulatedCloud } from "../support/simulated-cloud.js";
import { sharedTestEnv, type TestEnv } from "../support/test-env.js";

const TOKEN = "sgm-agent-token-for-tests";

interface StatusView {
  memberCount?: number;
  connectedCount?: number;
  members?: { instanceId: string; memberState?: string; agentConnected?: boolean; novaState?: string }[];
  counters?: Record<string, number>;
  conditions?: { type: string; status: string }[];
}

/** A compromised guest: speaks the wire protocol on the port directly, with whatever it likes in the sgm group. */
class RawGuest {
  readonly sgm: { type: string; body: Record<string, unknown> }[] = [];
  private buffered = "";
  private constructor(private readonly s: Socket) {
    s.setEncoding("utf8");
    s.on("data", (chunk: string) => {
      this.buffered += chunk;
      let nl: number;
      while ((nl = this.buffered.indexOf("\n")) >= 0) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        const m = JSON.parse(line) as { group: string; type: string; body: Record<string, unknown> };
        if (m.group === "sgm") this.sgm.push({ type: m.type, body: m.body });
        if (m.type === "challenge") this.line({ v: 1, group: "heartbeat", type: "response", body: { seq: m.body.seq, nonce: m.body.nonce, health: "healthy" } });
      }
    });
  }

  static async connect(path: string): Promise<RawGuest> {
    for (;;) {
      const s = createConnection(path);
      const ok = await new Promise<boolean>((r) => {
        s.once("error", () => r(false));
        s.once("connect", () => r(true));
        s.once("close", () => r(false));
      });
      if (ok) {
        await sleep(100);
        if (!s.destroyed) {
          const g = new RawGuest(s);
          g.line({ v: 1, group: "heartbeat", type: "init", body: { agent: "evil/1", bootId: "e".repeat(32), groups: ["heartbeat", "sgm"] } });
          return g;
        }
      }
      await sleep(300);
    }
  }

  line(m: unknown): void {
    this.s.write(`${JSON.stringify(m)}\n`);
  }

  raw(text: string): void {
    this.s.write(text);
  }

  errors(code: string): number {
    return this.sgm.filter((m) => m.type === "error" && m.body.code === code).length;
  }

  close(): void {
    this.s.destroy();
  }
}

describe("server-group messaging: real vmkeeper-guest binaries, real node agents, the operator and Nova (simulator)", function () {
  this.timeout(300_000);
  let env: TestEnv;
  let cloud: SimulatedCloud;
  let ns: string;
  let op: OperatorProcess;
  const agents: ManagedProcess[] = [];
  const guests: ManagedProcess[] = [];
  const pairs: VirtioSerialPair[] = [];
  const apps = new Map<string, GuestApp>();
  const ids = new Map<string, string>();
  let evil: RawGuest;
  // a, b on compute-1; c on compute-2; d on compute-3; the compromised guest e on compute-3.
  const placement: [string, string][] = [["a", "compute-1"], ["b", "compute-1"], ["c", "compute-2"], ["d", "compute-3"], ["e", "compute-3"]];
  const honest = ["a", "b", "c", "d"];

  before(async () => {
    await ensureGuestBinary();
    env = await sharedTestEnv();
    ns = await env.createNamespace("sgm");
    cloud = await startSimulatedCloud({ cloudName: "sim-cloud", hosts: 3, workDir: env.workDir });
    const admin = cloud.sim.keystone.userByName("admin");
    const project = [...cloud.sim.keystone.projects.values()].find((p) => p.name === "admin");
    const group = cloud.sim.nova.createServerGroup({ userId: admin?.id ?? "admin", projectId: project?.id ?? "admin", isAdmin: true, requestId: "req-test" }, "ha-app", "soft-anti-affinity");
    for (const s of cloud.sim.nova.addServers(placement.map(([n, host]) => ({ name: `app-${n}`, host, groupId: group.id, ...(project ? { projectId: project.id } : {}) })))) ids.set(s.name.slice(4), s.id);
    const dir = mkdtempSync(join(tmpdir(), "vmk-sgm-"));
    const reporting = await startReportingOperator({ env, cloud, namespace: ns, identity: "sgm-op", token: TOKEN, extraArgs: ["--sgm-refresh-interval-ms=300"] });
    op = reporting.op;
    for (const host of cloud.hosts) {
      const lines: string[] = [];
      for (const [n, h] of placement) {
        if (h !== host) continue;
        const pair = new VirtioSerialPair(join(dir, `${n}-host.sock`), join(dir, `${n}-guest.sock`));
        await pair.start();
        pairs.push(pair);
        lines.push(`${ids.get(n)} ${pair.hostPath}`);
        if (n !== "e") guests.push(startGuestProcess(pair.guestPath, join(dir, `${n}-app.sock`), join(env.workDir, `sgm-guest-${n}.log`)));
      }
      const file = join(dir, `${host}.channels`);
      writeFileSync(file, `${lines.join("\n")}\n`);
      agents.push(await startAgentProcess({ cloud: "sim-cloud", host, keyFile: cloud.keyFile, reportUrl: reporting.reportUrl, tokenFile: reporting.agentTokenFile, libvirtUri: "off", logPath: join(env.workDir, `sgm-agent-${host}.log`), extraArgs: [`--guest-channels-file=${file}`, "--guest-interval-ms=1000"] }));
    }
    await env.apply(ns, `${cloudManifests({ name: "sim-cloud", secretName: "sim-clouds", cloudsYaml: cloud.cloudsYaml, cloudName: "sim", recheckIntervalSeconds: 10 })}---
apiVersion: ha.vmkeeper.dev/v1alpha1
kind: ServerGroupMessaging
metadata: {name: ha-app}
spec:
  cloudRef: {name: sim-cloud}
  serverGroup: {name: ha-app}
  rateLimit: {messagesPerSecond: 5, burst: 5}
`);
    await eventually(async () => assert.equal((await status()).connectedCount, 4), 60_000, 300);
    evil = await RawGuest.connect(join(dir, "e-guest.sock"));
    await eventually(async () => assert.equal((await status()).connectedCount, 5), 30_000, 300);
    for (const n of honest) {
      const app = await GuestApp.connect(join(dir, `${n}-app.sock`));
      assert.equal((await app.call({ op: "register", app: `app-${n}` })).ok, true);
      assert.equal((await app.call({ op: "subscribe" })).ok, true);
      apps.set(n, app);
    }
  });

  after(async () => {
    for (const a of apps.values()) a.close();
    evil?.close();
    for (const g of guests) await g.stop();
    for (const a of agents) await a.stop();
    await op?.proc.stop();
    for (const p of pairs) await p.stop();
    await cloud?.stop();
  });

  const status = async (): Promise<StatusView> => {
    const r = await env.kubectl(["get", "servergroupmessaging", "ha-app", "-n", ns, "-o", "jsonpath={.status}"]);
    return r.stdout.trim() === "" ? {} : (JSON.parse(r.stdout) as StatusView);
  };
  const app = (n: string): GuestApp => apps.get(n) ?? assert.fail(n);
  const id = (n: string): string => ids.get(n) ?? assert.fail(n);
  const broadcasts = (n: string, tag: string): AppMessage[] => app(n).pushes.filter((p) => p.event === "sgm-broadcast" && String(p.payload).startsWith(tag));
  const notifications = (n: string, of: string): AppMessage[] => app(n).pushes.filter((p) => p.event === "sgm-notification" && p.instanceId === id(of));

  it("status shows every member with its Nova state and a connected guest agent; Ready", async () => {
    const s = await status();
    assert.equal(s.memberCount, 5);
    for (const m of s.members ?? []) {
      assert.equal(m.memberState, "Active", m.instanceId);
      assert.equal(m.novaState, "active");
      assert.equal(m.agentConnected, true);
    }
    assert.equal(s.conditions?.find((c) => c.type === "Ready")?.status, "True");
  });

  it("every other member receives each broadcast exactly once, stamped with the sender's instance id", async () => {
    const started = Date.now();
    for (const n of honest) {
      const r = await app(n).call({ op: "broadcast", ref: `from-${n}`, payload: `round1 from ${n} <&> "quoted"` });
      assert.equal(r.ok, true, JSON.stringify(r));
    }
    await eventually(() => {
      for (const n of honest) assert.equal(broadcasts(n, "round1").length, honest.length - 1, n);
    }, 10_000, 50);
    console.log(`      12 deliveries to 4 guests across 3 agents in ${Date.now() - started} ms`);
    await sleep(1000); // nothing arrives twice
    for (const n of honest) {
      const got = broadcasts(n, "round1");
      assert.equal(got.length, honest.length - 1, n);
      const senders = got.map((p) => (p.from as { instanceId: string }).instanceId).sort();
      assert.deepEqual(senders, honest.filter((x) => x !== n).map(id).sort(), n);
      for (const p of got) assert.match(String(p.payload), /^round1 from [a-d] <&> "quoted"$/);
    }
    assert.equal(evil.sgm.filter((m) => m.type === "deliver" && String(m.body.payload).startsWith("round1")).length, 4, "the fifth member gets them too");
  });

  it("a status query answers the state of every member, itself included", async () => {
    const r = await app("a").call({ op: "sgm-status", ref: "q1" });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.ref, "q1");
    const st = r.status as { self: string; group: { name: string }; members: { instanceId: string; state: string; agentConnected: boolean }[] };
    assert.equal(st.self, id("a"));
    assert.equal(st.group.name, "ha-app");
    assert.deepEqual(st.members.map((m) => m.instanceId).sort(), [...ids.values()].sort());
    assert.ok(st.members.every((m) => m.state === "Active" && m.agentConnected));
  });

  it("notifications follow a member's stop and start through Nova", async () => {
    await cloud.nova.stopServer(id("d"));
    await eventually(() => {
      for (const n of ["a", "b", "c"]) assert.deepEqual(notifications(n, "d").map((p) => p.state), ["Stopped"], n);
    }, 20_000, 100);
    assert.equal(notifications("d", "d").length, 0, "a member is not told about itself");
    await cloud.nova.startServer(id("d"));
    await eventually(() => {
      for (const n of ["a", "b", "c"]) assert.deepEqual(notifications(n, "d").map((p) => `${String(p.previousState)}>${String(p.state)}`), ["Active>Stopped", "Stopped>Active"], n);
    }, 20_000, 100);
    const events = (await env.kubectl(["get", "events.events.k8s.io", "-n", ns, "--field-selector", "reason=MemberStateChanged", "-o", "jsonpath={.items[*].note}"])).stdout;
    assert.match(events, /Active -> Stopped/);
    assert.match(events, /Stopped -> Active/);
  });

  it("spoofed, over-size, malformed and flooding messages are refused with an error to the sender and counted; nothing crashes", async () => {
    const before = (await status()).counters ?? {};
    evil.line({ v: 1, group: "sgm", type: "broadcast", body: { from: id("a"), payload: "I am a" } });
    evil.line({ v: 1, group: "sgm", type: "broadcast", body: { payload: "x".repeat(3051) } });
    evil.line({ v: 1, group: "sgm", type: "broadcast", body: { payload: 42 } });
    evil.line({ v: 1, group: "sgm", type: "teleport", body: {} });
    evil.raw(`${"{".repeat(5000)}\nnot json\n{"v":1,"group":"sgm","type":"broadcast","body":null}\n`);
    await eventually(() => {
      assert.equal(evil.errors("spoofed"), 1);
      assert.equal(evil.errors("payload_too_large"), 1);
      assert.equal(evil.errors("invalid_message"), 2);
    }, 10_000, 100);
    for (let i = 0; i < 40; i++) evil.line({ v: 1, group: "sgm", type: "broadcast", body: { payload: `flood ${i}` } });
    await eventually(() => assert.ok(evil.errors("rate_limited") >= 30, `rate_limited ${evil.errors("rate_limited")}`), 10_000, 100);
    // A real guest's application flooding through the local API is refused the same way.
    for (let i = 0; i < 30; i++) app("b").send({ op: "broadcast", payload: `bflood ${i}` });
    await eventually(() => assert.ok(app("b").pushes.filter((p) => p.event === "sgm-error" && p.code === "rate_limited").length >= 20), 10_000, 100);
    await sleep(1000);
    const floods = broadcasts("a", "flood ").length;
    assert.ok(floods <= 7, `the burst (5) and refill get through, not the flood: ${floods}`);
    assert.equal(broadcasts("a", "I am a").length, 0, "the spoofed broadcast is not delivered");
    await eventually(async () => {
      const c = (await status()).counters ?? {};
      assert.equal((c.refusedSpoofed ?? 0) - (before.refusedSpoofed ?? 0), 1);
      assert.equal((c.refusedOversize ?? 0) - (before.refusedOversize ?? 0), 1);
      assert.equal((c.refusedMalformed ?? 0) - (before.refusedMalformed ?? 0), 2);
      assert.ok((c.refusedRateLimited ?? 0) - (before.refusedRateLimited ?? 0) >= 50);
    }, 15_000, 300);
    assert.match(await op.metrics(), /vmkeeper_sgm_messages_total\{type="broadcast",result="rate_limited"\} [1-9]/);
    // Every process is still up and the group still works.
    for (const p of [...agents, ...guests]) assert.equal(p.exitCode(), null, p.name);
    await sleep(1200); // refill the buckets
    const r = await app("c").call({ op: "broadcast", payload: "after the storm" });
    assert.equal(r.ok, true);
    await eventually(() => assert.equal(broadcasts("a", "after the storm").length, 1), 10_000, 100);
  });

  it("F26: when a member's host fails, the others are told the host failed, its recovery started and it is ACTIVE again, in that order", async () => {
    await env.apply(ns, `apiVersion: ha.vmkeeper.dev/v1alpha1
kind: InstanceHAPolicy
metadata: {name: ha-app-members}
spec:
  cloudRef: {name: sim-cloud}
  mode: KeepRunning
  selector: {serverGroups: [{name: ha-app}]}
  recovery: {unsafeSkipPowerFencing: true, localDisk: RebuildFromImage}
  hostMonitoring: {heartbeatIntervalMilliseconds: 200, missedHeartbeats: 3, confirmationWindowSeconds: 2}
  stormProtection: {startupGraceSeconds: 0, maxUnhealthy: "50%"}
`);
    const health = async (h: string): Promise<string> => (await env.kubectl(["get", "computehost", `sim-cloud.${h}`, "-n", ns, "-o", "jsonpath={.status.health.state}"])).stdout.trim();
    await eventually(async () => assert.equal(await health("compute-2"), "Healthy"), 60_000, 300);
    await sleep(3000); // a full observation window with the policy's heartbeat settings
    cloud.sim.nova.setKnobs({ evacuationDurationMs: 3000 });
    // compute-2 dies with c (and its node agent and guest agent) on it.
    await agents[1]?.stop();
    await guests[2]?.stop();
    cloud.killHost("compute-2");
    const causes = (n: string): string[] => notifications(n, "c").map((p) => String(p.cause)).filter((c) => c !== "StateChanged");
    await eventually(() => {
      for (const n of ["a", "b", "d"]) assert.deepEqual(causes(n), ["HostFailed", "RecoveryStarted", "RecoveryFinished"], n);
    }, 90_000, 200);
    for (const n of ["a", "b", "d"]) {
      const [failed, started, finished] = notifications(n, "c").filter((p) => p.cause !== "StateChanged");
      assert.deepEqual([failed?.state, started?.state, finished?.state], ["Error", "Recovering", "Recovered"], n);
      assert.match(String(finished?.reason), /recovered from failed host compute-2 onto compute-[13] and ACTIVE/);
    }
    const server = await cloud.nova.getServer(id("c"));
    assert.equal(server.status, "ACTIVE");
    assert.notEqual(server.host, "compute-2");
    assert.equal((await cloud.nova.listMigrations({ migrationType: "evacuation", instanceUuid: id("c") })).length, 1, "one evacuation");
  });
});
