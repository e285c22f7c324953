import assert from "node:assert/strict";
import { eventually } from "../support/eventually.js";
import { novaLab, type NovaLab } from "../support/nova-lab.js";
import { startOperatorProcess, type OperatorProcess } from "../support/operator-process.js";
import { sharedTestEnv, type TestEnv } from "../support/test-env.js";

interface HostView {
  metadata: { name: string; labels?: Record<string, string>; ownerReferences?: { kind: string; name: string }[] };
  spec: { serviceHost: string };
  status?: { nova?: { state?: string; status?: string; forcedDown?: boolean } };
}

describe("OpenStackCloud against the real Nova lab (Debian Zed, fake driver)", function () {
  this.timeout(600_000);
  let env: TestEnv;
  let lab: NovaLab;
  let op: OperatorProcess | undefined;
  let ns: string;

  before(async () => {
    lab = await novaLab();
    env = await sharedTestEnv();
    ns = await env.createNamespace("lab");
    op = await startOperatorProcess({ kubeconfig: env.kubeconfigFor("operator-a"), identity: "lab-test", namespace: ns, logDir: env.workDir, extraArgs: ["--leader-elect=false"] });
    await eventually(async () => assert.equal(await op!.readyz(), 200), 30_000);
  });

  after(async () => {
    await op?.proc.stop();
  });

  const apply = async (yaml: string): Promise<void> => {
    const r = await env.kubectl(["apply", "--server-side", "-f", "-"], { input: yaml });
    assert.equal(r.code, 0, r.stderr);
  };
  const secret = (name: string, cloudsYaml: string): string =>
    `apiVersion: v1\nkind: Secret\nmetadata: {name: ${name}, namespace: ${ns}}\ndata:\n  clouds.yaml: ${Buffer.from(cloudsYaml).toString("base64")}\n`;
  const cloud = (name: string, secretName: string, cloudName: string): string =>
    `apiVersion: ha.vmkeeper.dev/v1alpha1\nkind: OpenStackCloud\nmetadata: {name: ${name}, namespace: ${ns}}\nspec:\n  secretRef: {name: ${secretName}}\n  cloudName: ${cloudName}\n  recheckIntervalSeconds: 10\n`;
  const condition = async (name: string, type: string, field: "status" | "reason" | "message"): Promise<string> =>
    (await env.kubectl(["get", "openstackcloud", name, "-n", ns, "-o", `jsonpath={.status.conditions[?(@.type=="${type}")].${field}}`])).stdout.trim();
  const hosts = async (): Promise<HostView[]> =>
    (JSON.parse((await env.kubectl(["get", "computehosts", "-n", ns, "-o", "json"])).stdout) as { items: HostView[] }).items;

  it("becomes Ready with the cloud's microversion range, and a ComputeHost appears per nova-compute", async () => {
    await apply(secret("lab-admin", lab.cloudsYaml));
    await apply(cloud("lab", "lab-admin", "vmkeeper-lab"));
    await eventually(async () => assert.equal(await condition("lab", "Ready", "status"), "True"), 120_000);
    const status = JSON.parse((await env.kubectl(["get", "openstackcloud", "lab", "-n", ns, "-o", "jsonpath={.status}"])).stdout) as {
      novaMicroversion: { min: string; max: string; negotiated: string };
      hostCount: number;
      computeEndpoint: string;
    };
    assert.deepEqual(status.novaMicroversion, { min: "2.1", max: "2.93", negotiated: "2.93" });
    assert.equal(status.hostCount, 3);
    assert.match(status.computeEndpoint, /^http:\/\/127\.0\.0\.1:8774\/v2\.1/);
    const list = await eventually(async () => {
      const h = await hosts();
      assert.equal(h.length, 3);
      return h;
    });
    assert.deepEqual(list.map((h) => h.metadata.name).sort(), ["lab.compute-1", "lab.compute-2", "lab.compute-3"]);
    for (const h of list) {
      assert.equal(h.metadata.labels?.["ha.vmkeeper.dev/cloud"], "lab");
      assert.equal(h.metadata.ownerReferences?.[0]?.kind, "OpenStackCloud");
      assert.deepEqual([h.status?.nova?.state, h.status?.nova?.status, h.status?.nova?.forcedDown], ["Up", "Enabled", false]);
    }
  });

  it("shows a stopped nova-compute as Down on its ComputeHost within Nova's down time", async () => {
    await lab.compute("stop", 3);
    try {
      // The lab runs Nova with service_down_time = 20 s; the cloud re-checks every 10 s.
      await eventually(async () => {
        const h = (await hosts()).find((x) => x.spec.serviceHost === "compute-3");
        assert.equal(h?.status?.nova?.state, "Down");
      }, 60_000, 1000);
      const others = (await hosts()).filter((x) => x.spec.serviceHost !== "compute-3");
      assert.ok(others.every((x) => x.status?.nova?.state === "Up"));
    } finally {
      await lab.compute("start", 3);
    }
    await eventually(async () => {
      const h = (await hosts()).find((x) => x.spec.serviceHost === "compute-3");
      assert.equal(h?.status?.nova?.state, "Up");
    }, 90_000, 1000);
  });

  it("a wrong password gives AuthFailed with a clear message, and the password appears nowhere", async () => {
    const wrong = "Wr0ng-pa55word-for-test";
    const broken = lab.cloudsYaml.replace(/(vmkeeper-lab:\n(?:.*\n)*?\s+password:\s*)(\S+)/, `$1${wrong}`);
    assert.notEqual(broken, lab.cloudsYaml);
    await apply(secret("lab-wrong", broken));
    await apply(cloud("lab-wrong", "lab-wrong", "vmkeeper-lab"));
    await eventually(async () => assert.equal(await condition("lab-wrong", "AuthFailed", "status"), "True"), 60_000);
    assert.equal(await condition("lab-wrong", "Ready", "reason"), "AuthFailed");
    assert.match(await condition("lab-wrong", "AuthFailed", "message"), /Keystone refused the credentials/);
    const everything = [
      (await env.kubectl(["get", "openstackcloud", "lab-wrong", "-n", ns, "-o", "yaml"])).stdout,
      (await env.kubectl(["get", "events.events.k8s.io", "-n", ns, "-o", "yaml"])).stdout,
      op!.proc.logTail(10_000_000),
    ].join("\n");
    assert.ok(!everything.includes(wrong), "the wrong password leaked");
  });
});
