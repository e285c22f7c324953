import assert from "node:assert/strict";
import { cloudsYaml } from "../../src/sim/clouds-yaml.js";
import { cloudManifests } from "../support/cloud-manifests.js";
import { eventually, sleep } from "../support/eventually.js";
import { startOperatorProcess, type OperatorProcess } from "../support/operator-process.js";
import { startSimulatedCloud, type SimulatedCloud } from "../support/simulated-cloud.js";
import { sharedTestEnv, type TestEnv } from "../support/test-env.js";

interface EventView {
  reason: string;
  type: string;
  note?: string;
  regarding?: { kind?: string; name?: string };
}

describe("instance recovery: a protected VM that stops by itself is restarted in place (real API server + simulator)", function () {
  this.timeout(300_000);
  let env: TestEnv;
  let cloud: SimulatedCloud;
  const ops: OperatorProcess[] = [];
  let ns: string;
  const ids = new Map<string, string>();

  before(async () => {
    env = await sharedTestEnv();
    ns = await env.createNamespace("vmrecovery");
    cloud = await startSimulatedCloud({ cloudName: "sim-cloud", hosts: 3, workDir: env.workDir });
    // Nova's power-state sync notices a powered-off guest after a second (libvirt's lifecycle events take ~15 s, the periodic sync 10 min).
    cloud.sim.nova.setKnobs({ powerSyncIntervalMs: 1000 });
    const made = cloud.sim.nova.addServers([
      { name: "web-1", host: "compute-1", tags: ["ha"] },
      { name: "web-2", host: "compute-2", tags: ["ha"] },
      { name: "scratch-1", host: "compute-1" },
      { name: "fragile-1", host: "compute-3", tags: ["fragile"] },
    ]);
    for (const s of made) ids.set(s.name, s.id);
    // vmkeeper logs in as its own service user; the VMs belong to (and are stopped by) another user.
    const yaml = cloudsYaml({ cloudName: "sim", authUrl: cloud.server.authUrl, region: cloud.sim.keystone.region, auth: { kind: "password", username: "vmkeeper", password: "vmkeeper-secret", projectName: "admin" } });
    await env.apply(ns, `${cloudManifests({ name: "sim-cloud", secretName: "sim-clouds", cloudsYaml: yaml, cloudName: "sim", recheckIntervalSeconds: 10 })}---
apiVersion: ha.vmkeeper.dev/v1alpha1
kind: InstanceHAPolicy
metadata: {name: keep-vms}
spec:
  cloudRef: {name: sim-cloud}
  mode: KeepRunning
  selector: {tags: [ha]}
  vmMonitoring: {minRestartIntervalSeconds: 0}
---
apiVersion: ha.vmkeeper.dev/v1alpha1
kind: InstanceHAPolicy
metadata: {name: fragile}
spec:
  cloudRef: {name: sim-cloud}
  mode: KeepRunning
  selector: {tags: [fragile]}
  restartBudget: {maxRecoveries: 1, windowSeconds: 3600}
  vmMonitoring: {minRestartIntervalSeconds: 0}
`);
    for (const [n, id] of ["vmkeeper-a", "vmkeeper-b"].entries()) {
      ops.push(await startOperatorProcess({
        kubeconfig: env.kubeconfigFor(id === "vmkeeper-a" ? "operator-a" : "operator-b"),
        identity: id,
        namespace: ns,
        logDir: env.workDir,
        extraArgs: [`--heartbeat-bind-address=127.0.0.1:${cloud.heartbeatPorts[n] ?? 0}`, `--heartbeat-key-file=${cloud.keyFile}`, "--monitor-interval-ms=200"],
      }));
    }
    await eventually(async () => {
      for (const h of cloud.hosts) {
        const state = (await env.kubectl(["get", "computehost", `sim-cloud.${h}`, "-n", ns, "-o", "jsonpath={.status.health.state}"])).stdout.trim();
        assert.equal(state, "Healthy", h);
      }
    }, 60_000, 500);
  });

  after(async () => {
    for (const op of ops) await op.proc.stop();
    await cloud?.stop();
  });

  const id = (name: string): string => ids.get(name) ?? assert.fail(name);
  const status = async (name: string): Promise<string> => (await cloud.nova.getServer(id(name))).status;
  const stops = async (name: string): Promise<number> => (await cloud.nova.listInstanceActions(id(name))).filter((a) => a.action === "stop" && a.userId === null).length;
  /** The guest dies (the hypervisor sees it crashed); returns once Nova's power sync recorded its stop. */
  const crash = async (name: string): Promise<void> => {
    const before = await stops(name);
    const res = await fetch(`${cloud.server.url}/_sim/servers/${id(name)}/power`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ state: "crashed" }) });
    assert.equal(res.status, 200);
    await eventually(async () => assert.equal(await stops(name), before + 1, "Nova's power sync stopped it"), 10_000, 100);
  };
  const starts = async (name: string): Promise<number> => (await cloud.nova.listInstanceActions(id(name))).filter((a) => a.action === "start" || a.action === "reboot").length;
  const policyEvents = async (): Promise<EventView[]> =>
    (JSON.parse((await env.kubectl(["get", "events.events.k8s.io", "-n", ns, "-o", "json"])).stdout) as { items: EventView[] }).items.filter((e) => e.regarding?.kind === "InstanceHAPolicy");
  const leaderMetrics = async (): Promise<string> => {
    const leader = (await env.kubectl(["get", "lease", "vmkeeper-operator", "-n", ns, "-o", "jsonpath={.spec.holderIdentity}"])).stdout.trim();
    return ops.find((o) => o.identity === leader)!.metrics();
  };

  it("restarts a crashed protected VM to ACTIVE on its host, once, with an Event and the metric; the unprotected VM stays down", async () => {
    const crashedAt = Date.now();
    await crash("web-1");
    await crash("scratch-1");
    await eventually(async () => assert.equal(await status("web-1"), "ACTIVE"), 60_000, 250);
    console.log(`      web-1 ACTIVE again ${Date.now() - crashedAt} ms after its guest crashed`);
    const web1 = await cloud.nova.getServer(id("web-1"));
    assert.equal(web1.host, "compute-1", "restarted in place");
    assert.equal(await starts("web-1"), 1, "one start, from the leader only");
    const events = await eventually(async () => {
      const list = (await policyEvents()).filter((e) => e.regarding?.name === "keep-vms" && e.reason === "InstanceRestarted");
      assert.equal(list.length, 1);
      return list;
    }, 10_000, 250);
    assert.match(events[0]?.note ?? "", /web-1 .*start accepted by Nova/);
    assert.match(await leaderMetrics(), new RegExp(`vmkeeper_instance_recoveries_total\\{policy="keep-vms",namespace="${ns}",action="Start",result="Accepted"\\} 1`));
    assert.equal(await status("scratch-1"), "SHUTOFF", "not protected: left alone");
  });

  it("leaves a VM its owner stopped SHUTOFF and says so once", async () => {
    await cloud.nova.stopServer(id("web-2"));
    await eventually(async () => {
      const list = (await policyEvents()).filter((e) => e.reason === "StoppedByUser");
      assert.equal(list.length, 1);
      assert.match(list[0]?.note ?? "", /web-2 .*stop by user/);
    }, 40_000, 250);
    await sleep(12_000); // at least one more pass
    assert.equal(await status("web-2"), "SHUTOFF");
    assert.equal(await starts("web-2"), 0);
  });

  it("restarts a VM within its budget, then leaves it down with a Warning once the budget is spent", async () => {
    await crash("fragile-1");
    await eventually(async () => assert.equal(await status("fragile-1"), "ACTIVE"), 60_000, 250);
    await crash("fragile-1");
    await eventually(async () => {
      const list = (await policyEvents()).filter((e) => e.regarding?.name === "fragile" && e.reason === "RestartBudgetExhausted");
      assert.equal(list.length, 1);
      assert.equal(list[0]?.type, "Warning");
      assert.match(list[0]?.note ?? "", /1 of 1 recoveries in 3600 s/);
    }, 60_000, 250);
    await sleep(12_000);
    assert.equal(await status("fragile-1"), "SHUTOFF");
    assert.equal(await starts("fragile-1"), 1, "the budget allowed one restart");
    assert.match(await leaderMetrics(), new RegExp(`vmkeeper_instance_recoveries_total\\{policy="fragile",namespace="${ns}",action="HardReboot",result="BudgetExhausted"\\} 1`));
    assert.equal(await status("scratch-1"), "SHUTOFF", "the unprotected VM is still untouched");
    assert.equal(await starts("scratch-1"), 0);
  });
});
