import assert from "node:assert/strict";
import { join } from "node:path";
import type { NovaClient } from "../../src/openstack/nova-client.js";
import { cloudManifests } from "../support/cloud-manifests.js";
import { eventually } from "../support/eventually.js";
import { FaultHistory, violationsOfI2 } from "../support/fault-history.js";
import { freePort } from "../support/free-port.js";
import { writeHeartbeatKeyFile } from "../support/heartbeat-key-file.js";
import type { IpmiSim } from "../support/ipmi-sim.js";
import { bmcSecretManifest, LAB_CLOUD, labClients, novaTime, repairLabCompute, startLabComputeBmc } from "../support/lab-clients.js";
import { novaLab, type NovaLab } from "../support/nova-lab.js";
import type { NovaFixtures } from "../support/nova-fixtures.js";
import { startOperatorProcess, type OperatorProcess } from "../support/operator-process.js";
import { startSimulatedAgents, type SimulatedAgents } from "../support/simulated-agents.js";
import { runCommand } from "../support/run-command.js";
import { REPO_ROOT } from "../support/test-assets.js";
import { sharedTestEnv, type TestEnv } from "../support/test-env.js";

const HOSTS = ["compute-1", "compute-2", "compute-3"];

interface IncidentView {
  status?: {
    phase?: string;
    fencing?: { hostFencingRef?: { name: string }; level?: string; powerReadBackOff?: boolean; forcedDown?: boolean; unsafeSkipped?: boolean; devices?: { device: string; result: string }[] };
    instances?: { id: string; state: string }[];
    timestamps?: Record<string, string>;
  };
}

/**
 * A hung compute host (FAULT-MATRIX F2: cut off, its processes still there) on the real Nova
 * lab, fenced through a real IPMI-over-LAN BMC (OpenIPMI ipmi_sim, driven by ipmitool) whose
 * power-off really ends the host's processes; then evacuated. The run's history (BMC power
 * cuts, the Incident's read-back of forced_down, Nova's own evacuation records) must keep
 * invariant I2.
 */
describe("fencing end to end on the real Nova lab: IPMI power-off before any evacuation (I2)", function () {
  this.timeout(600_000);
  let env: TestEnv;
  let lab: NovaLab;
  let nova: NovaClient;
  let fixtures: NovaFixtures;
  let bmc: IpmiSim | undefined;
  let agents: SimulatedAgents | undefined;
  let op: OperatorProcess | undefined;
  let ns: string;
  const servers: string[] = [];

  before(async () => {
    lab = await novaLab();
    env = await sharedTestEnv();
    ({ nova, fixtures } = labClients(lab));
    ns = await env.createNamespace("lab-fence");
    // compute-1's BMC: cutting its power ends compute-1's processes, as a real power-off would.
    bmc = await startLabComputeBmc(1);
    const port = await freePort();
    const keyFile = writeHeartbeatKeyFile(env.workDir);
    agents = startSimulatedAgents({ cloudName: "lab", hosts: HOSTS, ports: [port], keyFile });
    const booted = await fixtures.bootActive([{ name: "fence-e2e-1", host: "compute-1" }, { name: "fence-e2e-2", host: "compute-1" }, { name: "fence-e2e-3", host: "compute-1" }]);
    servers.push(...booted.map((s) => s.id));
    await env.apply(ns, `${cloudManifests({ name: "lab", secretName: "lab-clouds", cloudsYaml: lab.cloudsYaml, cloudName: LAB_CLOUD, recheckIntervalSeconds: 10 })}---
${bmcSecretManifest("compute-1-bmc", bmc)}---
apiVersion: ha.vmkeeper.dev/v1alpha1
kind: InstanceHAPolicy
metadata: {name: lab-fenced}
spec:
  cloudRef: {name: lab}
  selector: {nameGlobs: ["fence-e2e-*"]}
  recovery: {localDisk: RebuildFromImage}
  hostMonitoring: {heartbeatIntervalMilliseconds: 200, missedHeartbeats: 3, confirmationWindowSeconds: 2}
  stormProtection: {startupGraceSeconds: 0}
---
apiVersion: ha.vmkeeper.dev/v1alpha1
kind: HostFencing
metadata: {name: lab-bmcs}
spec:
  cloudRef: {name: lab}
  hostSelector: {names: [lab.compute-1]}
  healthCheckIntervalSeconds: 10
  levels:
    - name: bmc
      devices:
        - name: ipmi
          kind: IPMI
          timeoutSeconds: 10
          retries: 1
          retryIntervalSeconds: 1
          ipmi: {address: 127.0.0.1, port: ${bmc.port}, cipherSuite: 3, credentialsSecretRef: {name: compute-1-bmc}}
`);
    op = await startOperatorProcess({ kubeconfig: env.kubeconfigFor("operator-c"), identity: "lab-fence", namespace: ns, logDir: env.workDir, extraArgs: ["--leader-elect=false", `--heartbeat-bind-address=127.0.0.1:${port}`, `--heartbeat-key-file=${keyFile}`, "--monitor-interval-ms=200"] });
  });

  after(async () => {
    // vmkeeper first, so nothing fences the host again while the lab is repaired.
    await op?.proc.stop();
    await agents?.stop();
    await bmc?.stop();
    await repairLabCompute(lab, nova, 1, true);
    if (servers.length) await fixtures.deleteServers(servers).catch(() => undefined);
  });

  it("probes compute-1's BMC before it is needed", async () => {
    await eventually(async () => {
      const g = await env.kubectl(["get", "hostfencing", "lab-bmcs", "-n", ns, "-o", "jsonpath={.status.conditions[?(@.type=='DevicesReady')].status} {.status.hosts[0].devices[0].powerState}"]);
      assert.equal(g.stdout.trim(), "True On");
    }, 120_000, 1000);
  });

  it("vmkeeper fence test: reads the BMC per level and switches nothing", async () => {
    const r = await runCommand(process.execPath, [join(REPO_ROOT, "dist/src/cli/vmkeeper.js"), "fence", "test", "lab.compute-1", "-n", ns, "--kubeconfig", env.kubeconfigPath], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^level bmc: READY$/m);
    assert.match(r.stdout, /^ {2}ipmi +IPMI +reachable, power On$/m);
    assert.match(r.stdout, /^result: fenceable through level bmc$/m);
    assert.ok(!r.stdout.includes(bmc?.password ?? "-"), "no password in the output");
    assert.deepEqual(await bmc?.powerRequests(), [], "a status check requests no power change");
    const other = await runCommand(process.execPath, [join(REPO_ROOT, "dist/src/cli/vmkeeper.js"), "fence", "test", "lab.compute-2", "-n", ns, "--kubeconfig", env.kubeconfigPath], { timeoutMs: 60_000 });
    assert.equal(other.code, 1);
    assert.match(other.stdout, /no HostFencing in namespace \S+ selects it; it cannot be fenced/);
  });

  it("a hung compute host is powered off over IPMI, read back Off, forced down, and only then evacuated; history keeps I2", async () => {
    await eventually(async () => {
      const r = await env.kubectl(["get", "computehosts", "-n", ns, "-o", "jsonpath={.items[*].status.health.state}"]);
      assert.deepEqual(r.stdout.trim().split(/\s+/), ["Healthy", "Healthy", "Healthy"]);
    }, 120_000, 500);
    const failedAt = Date.now();
    agents?.kill("compute-1");
    await lab.compute("freeze", 1);
    const inc = await eventually(async () => {
      const g = await env.kubectl(["get", "incident", "lab.compute-1-1", "-n", ns, "-o", "json"]);
      assert.equal(g.code, 0, g.stderr);
      const o = JSON.parse(g.stdout) as IncidentView;
      assert.equal(o.status?.phase, "Recovered", JSON.stringify(o.status));
      return o;
    }, 240_000, 1000);
    const f = inc.status?.fencing;
    assert.equal(f?.hostFencingRef?.name, "lab-bmcs");
    assert.equal(f?.level, "bmc");
    assert.equal(f?.powerReadBackOff, true);
    assert.equal(f?.forcedDown, true);
    assert.equal(f?.unsafeSkipped, undefined, "power fencing was not skipped");
    assert.equal(await bmc?.powerState(), "Off");
    assert.deepEqual(await bmc?.powerRequests(), ["off"]);

    const history = new FaultHistory(join(env.workDir, "fencing-lab-history.jsonl"));
    for (const at of (await bmc?.powerOffTimes()) ?? []) history.add({ at, source: "bmc", kind: "powerOff", host: "compute-1" });
    const ts = inc.status?.timestamps ?? {};
    history.add({ at: Date.parse(ts.fencedAt ?? ""), source: "incident", kind: "forcedDown", host: "compute-1" });
    for (const id of servers) {
      const s = await nova.getServer(id);
      assert.equal(s.status, "ACTIVE");
      assert.notEqual(s.host, "compute-1");
      const migrations = await nova.listMigrations({ migrationType: "evacuation", instanceUuid: id });
      assert.equal(migrations.length, 1, "one evacuation per VM, recorded by Nova");
      for (const m of migrations) history.add({ at: novaTime(m.createdAt), source: "nova", kind: "evacuationAccepted", host: m.sourceCompute ?? "", instance: id, migration: m.id });
    }
    history.add({ at: Date.parse(ts.firstEvacuationAt ?? ""), source: "incident", kind: "firstEvacuation", host: "compute-1", incident: "lab.compute-1-1" });
    history.add({ at: Date.parse(ts.recoveredAt ?? ""), source: "incident", kind: "recovered", host: "compute-1", incident: "lab.compute-1-1" });
    assert.equal(history.records.filter((r) => r.kind === "powerOff").length, 1);
    assert.deepEqual(violationsOfI2(history.records), []);
    const powerOff = history.records.find((r) => r.kind === "powerOff")?.at ?? 0;
    assert.ok(powerOff <= Date.parse(ts.firstEvacuationAt ?? ""), "the Incident's first evacuation came after the power cut");
    console.log(`      real Nova + IPMI: power cut ${powerOff - failedAt} ms, first evacuation ${Date.parse(ts.firstEvacuationAt ?? "") - failedAt} ms, all ACTIVE ${Date.parse(ts.recoveredAt ?? "") - failedAt} ms after the host hung`);
    const [svc] = await nova.listServices({ binary: "nova-compute", host: "compute-1" });
    assert.equal(svc?.forcedDown, true);
    assert.equal(svc?.status, "disabled");
  });
});
