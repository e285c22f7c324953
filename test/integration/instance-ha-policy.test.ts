import assert from "node:assert/strict";
import type { InstanceHAPolicy } from "../../src/api/v1alpha1/index.js";
import { cloudsYaml } from "../../src/sim/clouds-yaml.js";
import { SYSTEM_CONTEXT } from "../../src/sim/nova-model.js";
import { createSimCloud, type SimCloud } from "../../src/sim/sim-cloud.js";
import { SimServer } from "../../src/sim/sim-server.js";
import { SystemClock } from "../../src/util/clock.js";
import { eventually, sleep } from "../support/eventually.js";
import { startOperatorProcess, type OperatorProcess } from "../support/operator-process.js";
import { sharedTestEnv, type TestEnv } from "../support/test-env.js";

/**
 * The InstanceHAPolicy controller ("instancehapolicy") in the operator process, on the real
 * API server, against the OpenStack simulator on 127.0.0.1. Three hosts: compute-1 and
 * compute-2 in az-1, compute-3 alone in az-2. Every simulated server boots from an image,
 * so its root disk is local.
 *
 * Policies of cloud `lab` (Nova capped at 2.87, so hypervisors report capacity):
 * - critical (priority 100): tags [ha] minus scratch-*, RebuildFromImage, a databases tier
 * - lonely (priority 50): AZ az-2, RebuildFromImage: one host, so no failover capacity
 * - watch (NotifyOnly): server group "quorum" by name
 * - everything (priority 0): allInstances, localDisk Refuse (the default)
 * - switched-off (Disabled): allInstances at priority 1000, claims nothing
 * and `fresh` on cloud `lab-new` (no cap: Nova 2.88+ reports no capacity), `orphan` on a
 * cloud that does not exist.
 */
describe("InstanceHAPolicy controller (real API server + simulator)", function () {
  this.timeout(180_000);
  let env: TestEnv;
  let op: OperatorProcess | undefined;
  let sim: SimServer | undefined;
  let simCloud: SimCloud;
  let ns: string;

  before(async () => {
    env = await sharedTestEnv();
    ns = await env.createNamespace("ihap");
    simCloud = createSimCloud(new SystemClock(), { seed: "ihap-it", nova: { serviceDownTimeSeconds: 20, reportIntervalSeconds: 5 } });
    seed(simCloud);
    sim = new SimServer(simCloud, { host: "127.0.0.1", port: 0 });
    await sim.start();
    const clouds = cloudsYaml({ cloudName: "sim", authUrl: sim.authUrl, region: simCloud.keystone.region, auth: { kind: "password", username: "admin", password: "admin-secret", projectName: "admin" } });
    await apply(`apiVersion: v1
kind: Secret
metadata: {name: sim-creds, namespace: ${ns}}
stringData:
  clouds.yaml: ${JSON.stringify(clouds)}
---
apiVersion: ha.vmkeeper.dev/v1alpha1
kind: OpenStackCloud
metadata: {name: lab, namespace: ${ns}}
spec: {secretRef: {name: sim-creds}, cloudName: sim, maxNovaMicroversion: "2.87", recheckIntervalSeconds: 10}
---
apiVersion: ha.vmkeeper.dev/v1alpha1
kind: OpenStackCloud
metadata: {name: lab-new, namespace: ${ns}}
spec: {secretRef: {name: sim-creds}, cloudName: sim, recheckIntervalSeconds: 10}
`);
    op = await startOperatorProcess({ kubeconfig: env.kubeconfigFor("operator-a"), identity: "ihap-test", namespace: ns, logDir: env.workDir, extraArgs: ["--leader-elect=false"] });
    await eventually(async () => assert.equal(await op!.readyz(), 200), 30_000);
    await eventually(async () => {
      const r = await env.kubectl(["get", "openstackcloud", "-n", ns, "-o", `jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}`]);
      assert.equal(r.stdout.trim(), "True True");
    }, 60_000, 500);
    await apply(policies(ns));
  });

  after(async () => {
    await op?.proc.stop();
    await sim?.stop();
  });

  async function apply(yaml: string): Promise<void> {
    const r = await env.kubectl(["apply", "--server-side", "-f", "-"], { input: yaml });
    assert.equal(r.code, 0, r.stderr);
  }

  async function policy(name: string): Promise<InstanceHAPolicy> {
    const r = await env.kubectl(["get", "instancehapolicy", name, "-n", ns, "-o", "json"]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as InstanceHAPolicy;
  }

  const condition = (p: InstanceHAPolicy, type: string) => p.status?.conditions?.find((c) => c.type === type);
  const unprotected = (p: InstanceHAPolicy): string[] => (p.status?.unprotected ?? []).map((u) => `${u.name ?? u.instanceId}:${u.reason}`).sort();

  /** Waits until the policy's status passes `check`: the policies of a cloud converge together. */
  function settled(name: string, check: (p: InstanceHAPolicy) => void, timeoutMs = 90_000): Promise<InstanceHAPolicy> {
    return eventually(async () => {
      const p = await policy(name);
      try {
        check(p);
      } catch (err: unknown) {
        throw new Error(`${name}: ${err instanceof Error ? err.message : String(err)}; status ${JSON.stringify(p.status)}`);
      }
      return p;
    }, timeoutMs, 500);
  }

  it("resolves who protects what: selectors, exclusions, overlap by priority and specificity, local disks", async () => {
    await settled("critical", (p) => {
      assert.equal(condition(p, "Ready")?.reason, "Protecting");
      assert.equal(p.status?.protectedCount, 2);
      assert.match(condition(p, "Ready")?.message ?? "", /by tier: databases 1, no tier 1/);
      assert.deepEqual(unprotected(p), ["scratch-1:Excluded"]);
      assert.equal(condition(p, "Overlapping")?.status, "True");
      assert.match(condition(p, "Overlapping")?.message ?? "", new RegExp(`${ns}/everything`));
    });
    await settled("everything", (p) => {
      assert.equal(condition(p, "Ready")?.status, "True");
      assert.equal(p.status?.protectedCount, 0);
      assert.deepEqual(unprotected(p), [
        "app-1:ClaimedByOtherPolicy",
        "db-1:ClaimedByOtherPolicy",
        "q-1:ClaimedByOtherPolicy",
        "q-2:ClaimedByOtherPolicy",
        "scratch-1:ClaimedByOtherPolicy",
        "web-1:LocalDiskRefused",
      ]);
    });
    // scratch-1 is excluded by critical, so lonely may claim it.
    await settled("lonely", (p) => assert.equal(p.status?.protectedCount, 1));
    await settled("watch", (p) => {
      assert.equal(condition(p, "Ready")?.reason, "NotifyOnly");
      assert.equal(p.status?.protectedCount, 2);
      assert.equal(condition(p, "FailoverCapacitySufficient"), undefined, "nothing is evacuated in NotifyOnly");
    });
    await settled("switched-off", (p) => {
      assert.equal(condition(p, "Ready")?.reason, "Disabled");
      assert.equal(p.status?.protectedCount, 0);
    });
  });

  it("reports failover capacity per scope: sufficient, insufficient, unknown", async () => {
    await settled("critical", (p) => {
      assert.equal(condition(p, "FailoverCapacitySufficient")?.status, "True");
      assert.equal(p.status?.hostFailuresTolerated, 1);
      const scopes = (p.status?.failoverCapacity ?? []).map((s) => `${s.scope}/${s.name}=${s.hostFailuresTolerated}`);
      assert.deepEqual(scopes, ["Cloud/lab=2", "Aggregate/az-1=1", "AvailabilityZone/az-1=1"]);
    });
    await settled("lonely", (p) => {
      assert.equal(condition(p, "FailoverCapacitySufficient")?.reason, "InsufficientCapacity");
      assert.equal(p.status?.hostFailuresTolerated, 0);
      assert.ok((p.status?.failoverCapacity ?? []).some((s) => s.scope === "AvailabilityZone" && s.name === "az-2" && s.limitingResource === "Hosts"));
    });
    await settled("fresh", (p) => {
      assert.equal(condition(p, "FailoverCapacitySufficient")?.status, "Unknown");
      assert.equal(condition(p, "FailoverCapacitySufficient")?.reason, "CapacityUnknown");
      assert.equal(p.status?.hostFailuresTolerated, undefined, "never guessed");
    });
    await settled("orphan", (p) => {
      assert.equal(condition(p, "Ready")?.status, "False");
      assert.equal(condition(p, "Ready")?.reason, "CloudNotFound");
    });
  });

  it("emits Events on condition transitions and flags the unsafe fencing knob", async () => {
    await eventually(async () => {
      const r = await env.kubectl(["get", "events.events.k8s.io", "-n", ns, "-o", "json"]);
      const items = (JSON.parse(r.stdout) as { items: { reason: string; type: string; regarding?: { kind?: string; name?: string } }[] }).items.filter((e) => e.regarding?.kind === "InstanceHAPolicy");
      assert.ok(items.some((e) => e.regarding?.name === "critical" && e.reason === "Protecting" && e.type === "Normal"));
      assert.ok(items.some((e) => e.regarding?.name === "lonely" && e.reason === "InsufficientCapacity" && e.type === "Warning"));
      assert.ok(items.some((e) => e.regarding?.name === "lonely" && e.reason === "UnsafeFencingSkipped" && e.type === "Warning"));
      assert.ok(items.some((e) => e.regarding?.name === "orphan" && e.reason === "CloudNotFound" && e.type === "Warning"));
    }, 30_000, 500);
    const lonely = await policy("lonely");
    assert.equal(condition(lonely, "UnsafeConfiguration")?.reason, "UnsafeFencingSkipped");
  });

  it("does not write status when nothing changed", async () => {
    const before = (await policy("critical")).metadata?.resourceVersion;
    await sleep(3000);
    assert.equal((await policy("critical")).metadata?.resourceVersion, before);
  });

  it("follows Nova and the spec: a new instance and an edited policy are evaluated again", async () => {
    simCloud.nova.addServers([{ name: "app-2", host: "compute-2", tags: ["ha"] }]);
    // Past the controller's shared instance-list TTL (10 s), so the edit sees the new server.
    await sleep(11_000);
    await apply(policies(ns, { criticalPriority: 101 }));
    await settled("critical", (p) => {
      assert.equal(p.status?.observedGeneration, 2);
      assert.equal(p.status?.protectedCount, 3);
      assert.equal(condition(p, "Ready")?.observedGeneration, 2);
    });
  });
});

function seed(cloud: SimCloud): void {
  cloud.nova.addHosts([
    { name: "compute-1", zone: "az-1", vcpus: 16, memoryMb: 32768, localGb: 500 },
    { name: "compute-2", zone: "az-1", vcpus: 16, memoryMb: 32768, localGb: 500 },
    { name: "compute-3", zone: "az-2", vcpus: 16, memoryMb: 32768, localGb: 500 },
  ]);
  const group = cloud.nova.createServerGroup(SYSTEM_CONTEXT, "quorum", "anti-affinity");
  cloud.nova.addServers([
    { name: "db-1", host: "compute-1", tags: ["ha", "db"] },
    { name: "app-1", host: "compute-2", tags: ["ha"] },
    { name: "scratch-1", host: "compute-3", tags: ["ha"] },
    { name: "web-1", host: "compute-1" },
    { name: "q-1", host: "compute-1", groupId: group.id },
    { name: "q-2", host: "compute-2", groupId: group.id },
  ]);
}

function policies(ns: string, o: { criticalPriority?: number } = {}): string {
  const p = (name: string, cloud: string, spec: string): string =>
    `apiVersion: ha.vmkeeper.dev/v1alpha1\nkind: InstanceHAPolicy\nmetadata: {name: ${name}, namespace: ${ns}}\nspec:\n  cloudRef: {name: ${cloud}}\n${spec}`;
  return [
    p(
      "critical",
      "lab",
      `  priority: ${o.criticalPriority ?? 100}
  selector: {tags: [ha], exclude: {nameGlobs: ["scratch-*"]}}
  recovery: {localDisk: RebuildFromImage}
  priorityTiers:
    - {name: databases, priority: 900, selector: {tags: [db]}}
`,
    ),
    p("lonely", "lab", `  priority: 50\n  selector: {availabilityZones: [az-2]}\n  recovery: {localDisk: RebuildFromImage, unsafeSkipPowerFencing: true}\n`),
    p("watch", "lab", `  mode: NotifyOnly\n  selector: {serverGroups: [{name: quorum}]}\n`),
    p("everything", "lab", `  selector: {allInstances: true}\n`),
    p("switched-off", "lab", `  mode: Disabled\n  priority: 1000\n  selector: {allInstances: true}\n`),
    p("fresh", "lab-new", `  selector: {allInstances: true}\n  recovery: {localDisk: RebuildFromImage}\n`),
    p("orphan", "missing", `  selector: {allInstances: true}\n`),
  ].join("---\n");
}
