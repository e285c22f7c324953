import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cloudManifests } from "../support/cloud-manifests.js";
import { eventually } from "../support/eventually.js";
import { startPrivateLibvirtd, tinyDomainXml, type PrivateLibvirtd } from "../support/libvirtd.js";
import { ensureVirtPeers, startAgentProcess, startReportingOperator } from "../support/agent-process.js";
import type { ManagedProcess } from "../support/managed-process.js";
import type { OperatorProcess } from "../support/operator-process.js";
import { startSimulatedCloud, type SimulatedCloud } from "../support/simulated-cloud.js";
import { sharedTestEnv, type TestEnv } from "../support/test-env.js";

const TOKEN = "agent-process-report-token";

interface EventView {
  reason: string;
  type: string;
  note?: string;
  regarding?: { kind?: string; name?: string };
}

/**
 * The node agent as shipped: a real `vmkeeper agent` process with a real libvirt connection
 * (a private libvirtd running a QEMU/TCG domain whose UUID is a Nova instance's) reports over
 * HTTP to a real operator process, which tells the instance's owners through the policy's
 * Events. The heartbeats of this agent go to an unused port: the simulated agents of the
 * simulated cloud keep the host itself healthy.
 */
describe("vmkeeper agent process: libvirt events reach the operator (real agent + libvirtd + operator + API server)", function () {
  this.timeout(600_000);
  let env: TestEnv;
  let cloud: SimulatedCloud;
  let lv: PrivateLibvirtd;
  let op: OperatorProcess | undefined;
  let agent: ManagedProcess | undefined;
  let ns: string;
  let vmId = "";

  before(async function () {
    this.timeout(900_000);
    await ensureVirtPeers();
    env = await sharedTestEnv();
    ns = await env.createNamespace("agentproc");
    cloud = await startSimulatedCloud({ cloudName: "sim-cloud", hosts: 2, workDir: env.workDir });
    const [vm] = cloud.sim.nova.addServers([{ name: "db-1", host: "compute-1", tags: ["ha"] }]);
    vmId = vm?.id ?? "";
    lv = await startPrivateLibvirtd();
    const xml = join(lv.dir, "db-1.xml");
    writeFileSync(xml, tinyDomainXml({ name: "instance-00000001", uuid: vmId, heartbeatSocketPath: join(lv.dir, `${vmId}.sock`), novaName: "db-1" }));
    await lv.virshOk("define", xml);
    await lv.virshOk("start", "instance-00000001");
    await env.apply(ns, `${cloudManifests({ name: "sim-cloud", secretName: "sim-clouds", cloudsYaml: cloud.cloudsYaml, cloudName: "sim", recheckIntervalSeconds: 10 })}---
apiVersion: ha.vmkeeper.dev/v1alpha1
kind: InstanceHAPolicy
metadata: {name: keep-db}
spec:
  cloudRef: {name: sim-cloud}
  mode: KeepRunning
  selector: {tags: [ha]}
`);
    const started = await startReportingOperator({ env, cloud, namespace: ns, identity: "agentproc", token: TOKEN });
    op = started.op;
    agent = await startAgentProcess({ cloud: "sim-cloud", host: "compute-1", keyFile: cloud.keyFile, reportUrl: started.reportUrl, tokenFile: started.agentTokenFile, libvirtUri: lv.uri, logPath: join(env.workDir, "agent-compute-1.log"), extraArgs: ["--log-level=debug"] });
    await eventually(() => assert.match(readFileSync(agent?.logPath ?? "", "utf8"), /host monitoring started/), 30_000, 200);
  });

  after(async () => {
    await agent?.stop();
    await op?.proc.stop();
    await lv?.stop();
    await cloud?.stop();
  });

  it("a domain destroyed behind Nova's back becomes a DomainStoppedUnrequested Event on the policy, naming the instance", async () => {
    await eventually(async () => {
      const state = (await lv.virshOk("domstate", "instance-00000001")).trim();
      assert.equal(state, "running");
    }, 30_000, 500);
    // Let the agent's event stream connect (virsh prints nothing on connect) before acting.
    await new Promise((res) => setTimeout(res, 2000));
    await lv.virshOk("destroy", "instance-00000001");
    const ev = await eventually(async () => {
      const g = await env.kubectl(["get", "events.events.k8s.io", "-n", ns, "-o", "json"]);
      const items = (JSON.parse(g.stdout) as { items: EventView[] }).items;
      const hit = items.find((e) => e.reason === "DomainStoppedUnrequested");
      assert.ok(hit, `no DomainStoppedUnrequested Event yet: ${items.map((e) => e.reason).join(", ")}`);
      return hit;
    }, 60_000, 500);
    assert.equal(ev.regarding?.kind, "InstanceHAPolicy");
    assert.equal(ev.regarding?.name, "keep-db");
    assert.match(ev.note ?? "", /db-1|instance-00000001|compute-1/);
    const log = readFileSync(agent?.logPath ?? "", "utf8");
    assert.ok(!log.includes(TOKEN), "the report token is not logged");
  });
});
