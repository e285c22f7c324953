import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { cloudManifests } from "../support/cloud-manifests.js";
import { eventually } from "../support/eventually.js";
import { freeUdpPort } from "../support/free-udp-port.js";
import { ensureFencingPeers, startIpmiSim, type IpmiSim } from "../support/ipmi-sim.js";
import { startOperatorProcess, type OperatorProcess } from "../support/operator-process.js";
import { startSimulatedCloud, type SimulatedCloud } from "../support/simulated-cloud.js";
import { sharedTestEnv, type TestEnv } from "../support/test-env.js";

interface Cond {
  type: string;
  status: string;
  message: string;
}
interface HostFencingView {
  status?: { conditions?: Cond[]; selectedHostCount?: number; unfenceableHostCount?: number; hosts?: { name: string; conflict?: boolean; devices?: { level: string; device: string; reachable?: boolean; powerState?: string; lastError?: string }[]; lastFencing?: { result?: string; level?: string } }[] };
}
interface IncidentView {
  metadata: { name: string };
  spec: { hostRef: { name: string } };
  status?: {
    phase?: string;
    instances?: { name?: string; state: string }[];
    fencing?: { level?: string; attempts?: number; powerReadBackOff?: boolean; forcedDown?: boolean; hostFencingRef?: { name: string }; devices?: { level: string; device: string; result: string; message?: string }[]; unfence?: { poweredOnAt?: string } };
    timestamps?: Record<string, string>;
  };
}

const WRONG_PASSWORD = "wrong-pw-Zq81x";

/**
 * HostFencing on the real API server with the Nova simulator and real IPMI-over-LAN BMCs
 * (OpenIPMI's ipmi_sim), driven by ipmitool and by fence_ipmilan.
 */
describe("HostFencing: verified power fencing over IPMI (real API server + simulator + ipmi_sim)", function () {
  this.timeout(400_000);
  let env: TestEnv;
  let cloud: SimulatedCloud;
  let bmc1: IpmiSim;
  let bmc2: IpmiSim;
  let op: OperatorProcess;
  let ns: string;

  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const r = await env.kubectl(args, input !== undefined ? { input } : {});
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const hostFencing = async (name: string): Promise<HostFencingView> => JSON.parse(await kubectl(["get", "hostfencing", name, "-n", ns, "-o", "json"])) as HostFencingView;
  const incident = async (host: string): Promise<IncidentView | undefined> =>
    (JSON.parse(await kubectl(["get", "incidents", "-n", ns, "-o", "json"])) as { items: IncidentView[] }).items.find((i) => i.spec.hostRef.name === `sim-cloud.${host}`);
  const cond = (hf: HostFencingView, type: string): Cond | undefined => hf.status?.conditions?.find((c) => c.type === type);

  before(async () => {
    await ensureFencingPeers();
    env = await sharedTestEnv();
    ns = await env.createNamespace("fencing");
    bmc1 = await startIpmiSim();
    bmc2 = await startIpmiSim();
    const deadPort = await freeUdpPort();
    cloud = await startSimulatedCloud({ cloudName: "sim-cloud", hosts: 4, workDir: env.workDir, serviceDownTimeSeconds: 60 });
    cloud.sim.nova.addServers([
      { name: "db-1", host: "compute-1", tags: ["ha"] },
      { name: "web-1", host: "compute-1", tags: ["ha"] },
      { name: "app-1", host: "compute-2", tags: ["ha"] },
      { name: "other-1", host: "compute-4", tags: ["ha"] },
    ]);
    await kubectl(["apply", "--server-side", "-n", ns, "-f", "-"], `${cloudManifests({ name: "sim-cloud", secretName: "sim-clouds", cloudsYaml: cloud.cloudsYaml, cloudName: "sim", recheckIntervalSeconds: 10 })}---
apiVersion: v1
kind: Secret
metadata: {name: bmc-credentials}
stringData: {username: ${bmc1.username}, password: ${bmc1.password}}
---
apiVersion: v1
kind: Secret
metadata: {name: bmc2-credentials}
stringData: {username: ${bmc2.username}, password: ${bmc2.password}}
---
apiVersion: v1
kind: Secret
metadata: {name: wrong-credentials}
stringData: {username: ${bmc1.username}, password: ${WRONG_PASSWORD}}
---
apiVersion: ha.vmkeeper.dev/v1alpha1
kind: InstanceHAPolicy
metadata: {name: tagged-ha}
spec:
  cloudRef: {name: sim-cloud}
  mode: KeepRunning
  selector: {tags: [ha]}
  recovery: {localDisk: RebuildFromImage}
  hostMonitoring: {heartbeatIntervalMilliseconds: 200, missedHeartbeats: 3, confirmationWindowSeconds: 2}
  stormProtection: {startupGraceSeconds: 0, maxUnhealthy: "50%"}
---
# compute-1: the IPMI level points at a port where no BMC answers (F4), so the fence_ipmilan
# level does the work. compute-2: plain IPMI on its own BMC, with its own password.
# Cipher suite 3: ipmi_sim does not answer ipmitool's cipher suite probe.
apiVersion: ha.vmkeeper.dev/v1alpha1
kind: HostFencing
metadata: {name: rack}
spec:
  cloudRef: {name: sim-cloud}
  hostSelector: {names: [sim-cloud.compute-1, sim-cloud.compute-2]}
  healthCheckIntervalSeconds: 10
  operationDeadlineSeconds: 60
  levels:
    - name: primary
      devices:
        - name: ipmi
          kind: IPMI
          timeoutSeconds: 4
          retries: 0
          ipmi: {address: 127.0.0.1, port: ${deadPort}, cipherSuite: 3, credentialsSecretRef: {name: bmc2-credentials}}
    - name: agent
      devices:
        - name: ipmilan
          kind: FenceAgent
          timeoutSeconds: 30
          retries: 1
          retryIntervalSeconds: 1
          fenceAgent:
            agent: fence_ipmilan
            options: [{name: ip, value: 127.0.0.1}, {name: ipport, value: "${bmc1.port}"}, {name: lanplus, value: "1"}, {name: cipher, value: "3"}]
            credentialsSecretRef: {name: bmc-credentials}
  hostOverrides:
    - {host: sim-cloud.compute-2, device: ipmi, port: ${bmc2.port}}
    - {host: sim-cloud.compute-2, device: ipmilan, port: ${bmc2.port}, credentialsSecretRef: {name: bmc2-credentials}}
---
apiVersion: ha.vmkeeper.dev/v1alpha1
kind: HostFencing
metadata: {name: bad-creds}
spec:
  cloudRef: {name: sim-cloud}
  hostSelector: {names: [sim-cloud.compute-3]}
  levels:
    - name: primary
      devices:
        - {name: ipmi, kind: IPMI, timeoutSeconds: 5, retries: 0, ipmi: {address: 127.0.0.1, port: ${bmc1.port}, cipherSuite: 3, credentialsSecretRef: {name: wrong-credentials}}}
`);
    op = await startOperatorProcess({
      kubeconfig: env.kubeconfigFor("operator-a"),
      identity: "fencing-a",
      namespace: ns,
      logDir: env.workDir,
      extraArgs: [`--heartbeat-bind-address=127.0.0.1:${cloud.heartbeatPorts[0] ?? 0}`, `--heartbeat-key-file=${cloud.keyFile}`, "--monitor-interval-ms=200"],
    });
  });

  after(async () => {
    await op?.proc.stop();
    await cloud?.stop();
    await bmc1?.stop();
    await bmc2?.stop();
  });

  it("probes every device before it is needed: per-host reachability and power state, DevicesReady", async () => {
    const hf = await eventually(async () => {
      const v = await hostFencing("rack");
      assert.equal(cond(v, "DevicesReady")?.status, "True", JSON.stringify(v.status));
      assert.equal(v.status?.hosts?.length, 2);
      return v;
    }, 90_000, 500);
    assert.equal(hf.status?.selectedHostCount, 2);
    assert.equal(hf.status?.unfenceableHostCount, 0);
    const c1 = hf.status?.hosts?.find((h) => h.name === "sim-cloud.compute-1");
    assert.equal(c1?.devices?.find((d) => d.level === "primary")?.reachable, false, "the dead BMC is reported");
    assert.deepEqual(c1?.devices?.find((d) => d.level === "agent"), { ...c1?.devices?.find((d) => d.level === "agent"), reachable: true, powerState: "On" });
    const c2 = hf.status?.hosts?.find((h) => h.name === "sim-cloud.compute-2");
    assert.equal(c2?.devices?.every((d) => d.reachable && d.powerState === "On"), true);
  });

  it("a wrong password gives a clear status without the password anywhere (logs, Events, status)", async () => {
    const hf = await eventually(async () => {
      const v = await hostFencing("bad-creds");
      assert.equal(cond(v, "DevicesReady")?.status, "False");
      return v;
    }, 60_000, 500);
    const dev = hf.status?.hosts?.[0]?.devices?.[0];
    assert.equal(dev?.reachable, false);
    assert.match(dev?.lastError ?? "", /AuthFailed/);
    assert.equal(hf.status?.unfenceableHostCount, 1);
    const everything = [JSON.stringify(hf), await kubectl(["get", "events", "-n", ns, "-o", "json"]), await readFile(join(env.workDir, "operator-fencing-a.log"), "utf8")].join("\n");
    assert.ok(!everything.includes(WRONG_PASSWORD), "the wrong password leaked");
    assert.ok(!everything.includes(bmc1.password), "a BMC password leaked");
  });

  it("a host selected by two HostFencings is reported on both and not fenceable", async () => {
    await kubectl(["apply", "--server-side", "-n", ns, "-f", "-"], `apiVersion: ha.vmkeeper.dev/v1alpha1
kind: HostFencing
metadata: {name: overlap}
spec:
  cloudRef: {name: sim-cloud}
  hostSelector: {names: [sim-cloud.compute-2]}
  levels: [{name: test, devices: [{name: pretend, kind: Noop, noop: {}}]}]
`);
    await eventually(async () => {
      const rack = await hostFencing("rack");
      const overlap = await hostFencing("overlap");
      assert.equal(cond(rack, "Conflict")?.status, "True");
      assert.match(cond(rack, "Conflict")?.message ?? "", /sim-cloud.compute-2 \(also overlap\)/);
      assert.equal(cond(overlap, "Conflict")?.status, "True");
      assert.equal(cond(overlap, "TestDevice")?.status, "True");
    }, 60_000, 500);
    const events = await kubectl(["get", "events", "-n", ns, "--field-selector", "reason=NoopDeviceInUse", "-o", "name"]);
    assert.notEqual(events.trim(), "", "a Warning Event for the Noop device");
    await kubectl(["delete", "hostfencing", "overlap", "-n", ns]);
    await eventually(async () => assert.equal(cond(await hostFencing("rack"), "Conflict")?.status, "False"), 60_000, 500);
  });

  it("F4: the first level is unreachable, the fence agent level powers the host off, read back Off before the first evacuation", async () => {
    await eventually(async () => assert.equal((await kubectl(["get", "computehost", "sim-cloud.compute-1", "-n", ns, "-o", "jsonpath={.status.health.state}"])).trim(), "Healthy"), 60_000, 500);
    cloud.killHost("compute-1");
    const done = await eventually(async () => {
      const inc = await incident("compute-1");
      assert.equal(inc?.status?.phase, "Recovered", JSON.stringify(inc?.status));
      return inc;
    }, 180_000, 500);
    const f = done?.status?.fencing;
    assert.equal(f?.hostFencingRef?.name, "rack");
    assert.equal(f?.level, "agent");
    assert.equal(f?.powerReadBackOff, true);
    assert.deepEqual(f?.devices?.map((d) => [d.level, d.device, d.result]), [["primary", "ipmi", "TimedOut"], ["agent", "ipmilan", "Succeeded"]]);
    assert.equal(await bmc1.powerState(), "Off", "the BMC really powered the host off");
    assert.deepEqual(await bmc1.powerRequests(), ["off"]);
    const ts = done?.status?.timestamps ?? {};
    assert.ok(ts.fencedAt && ts.firstEvacuationAt && ts.fencedAt <= ts.firstEvacuationAt, `I2: fenced ${ts.fencedAt} before the first evacuation ${ts.firstEvacuationAt}`);
    assert.deepEqual((done?.status?.instances ?? []).map((i) => [i.name, i.state]).sort(), [["db-1", "Recovered"], ["web-1", "Recovered"]]);
    const hf = await eventually(async () => {
      const v = await hostFencing("rack");
      assert.equal(v.status?.hosts?.find((h) => h.name === "sim-cloud.compute-1")?.lastFencing?.result, "Succeeded");
      return v;
    }, 30_000, 500);
    assert.equal(hf.status?.hosts?.find((h) => h.name === "sim-cloud.compute-1")?.lastFencing?.level, "agent");
    assert.match(await op.metrics(), /vmkeeper_fencing_operations_total\{hostfencing="rack",result="Succeeded"\} 1/);
  });

  it("F5 + retry: a lying BMC does not fence (FencingFailed, nothing evacuated); once it behaves, the retry fences and recovers", async () => {
    await bmc2.setLying(true);
    cloud.killHost("compute-2");
    const failed = await eventually(async () => {
      const inc = await incident("compute-2");
      assert.equal(inc?.status?.phase, "FencingFailed", JSON.stringify(inc?.status));
      return inc;
    }, 180_000, 500);
    assert.equal(failed?.status?.fencing?.powerReadBackOff, undefined);
    assert.ok(failed?.status?.fencing?.devices?.some((d) => /still reads On/.test(d.message ?? "")), JSON.stringify(failed?.status?.fencing?.devices));
    const app = (await cloud.nova.listServers({})).find((s) => s.name === "app-1");
    assert.equal(app?.host, "compute-2");
    assert.equal((await cloud.nova.listMigrations({ migrationType: "evacuation", instanceUuid: app?.id })).length, 0, "nothing evacuated while the host is not fenced");
    const [svc] = await cloud.nova.listServices({ binary: "nova-compute", host: "compute-2" });
    assert.equal(svc?.forcedDown, false, "not even forced down before power is read back Off");
    assert.notEqual((await kubectl(["get", "events", "-n", ns, "--field-selector", "reason=FencingFailed", "-o", "name"])).trim(), "");

    await bmc2.setLying(false);
    const recovered = await eventually(async () => {
      const inc = await incident("compute-2");
      assert.equal(inc?.status?.phase, "Recovered");
      return inc;
    }, 180_000, 1000);
    assert.ok((recovered?.status?.fencing?.attempts ?? 0) >= 2, "fenced by a later attempt");
    assert.equal(await bmc2.powerState(), "Off");
  });

  it("unfence Automatic: powers the recovered host back on; Nova keeps it forced down and disabled (F20)", async () => {
    await kubectl(["patch", "hostfencing", "rack", "-n", ns, "--type=merge", "-p", '{"spec":{"unfence":"Automatic"}}']);
    const inc = await eventually(async () => {
      const v = await incident("compute-1");
      assert.ok(v?.status?.fencing?.unfence?.poweredOnAt, JSON.stringify(v?.status?.fencing));
      return v;
    }, 120_000, 500);
    assert.ok(inc);
    assert.equal(await bmc1.powerState(), "On");
    const [svc] = await cloud.nova.listServices({ binary: "nova-compute", host: "compute-1" });
    assert.equal(svc?.forcedDown, true, "still forced down after power-on");
    assert.equal(svc?.status, "disabled", "still disabled after power-on");
  });
});
