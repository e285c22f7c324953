import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "../support/run-command.js";
import { REPO_ROOT } from "../support/test-assets.js";
import { sharedTestEnv, type TestEnv } from "../support/test-env.js";

describe("kubectl vmkeeper status, hosts, incidents and describe through kubectl's plugin mechanism (real API server)", function () {
  this.timeout(120_000);
  let bin: string;
  let env: TestEnv;
  let ns: string;
  let pathEnv: NodeJS.ProcessEnv;

  before(async () => {
    env = await sharedTestEnv();
    ns = await env.createNamespace("plugin");
    bin = mkdtempSync(join(tmpdir(), "vmkeeper-plugin-"));
    const shim = join(bin, "kubectl-vmkeeper");
    writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${join(REPO_ROOT, "dist/src/cli/kubectl-vmkeeper.js")}" "$@"\n`);
    chmodSync(shim, 0o755);
    // Only what kubectl and the plugin need: the kubeconfig comes from KUBECONFIG, as for kubectl itself.
    pathEnv = { PATH: `${bin}:${process.env.PATH ?? ""}`, KUBECONFIG: env.kubeconfigPath, HOME: bin };
    await env.apply(ns, `apiVersion: ha.vmkeeper.dev/v1alpha1
kind: OpenStackCloud
metadata: {name: lab}
spec: {secretRef: {name: lab-clouds}, cloudName: lab}
---
apiVersion: ha.vmkeeper.dev/v1alpha1
kind: InstanceHAPolicy
metadata: {name: keep}
spec:
  cloudRef: {name: lab}
  selector: {tags: [ha]}
---
apiVersion: ha.vmkeeper.dev/v1alpha1
kind: ComputeHost
metadata: {name: lab.compute-1}
spec: {cloudRef: {name: lab}, serviceHost: compute-1}
---
apiVersion: ha.vmkeeper.dev/v1alpha1
kind: ComputeHost
metadata: {name: lab.compute-2}
spec: {cloudRef: {name: lab}, serviceHost: compute-2}
---
apiVersion: ha.vmkeeper.dev/v1alpha1
kind: Incident
metadata: {name: lab.compute-1-1}
spec: {cloudRef: {name: lab}, hostRef: {name: lab.compute-1}, serviceHost: compute-1, epoch: 1, trigger: HostFailure, detectedAt: "2026-11-30T11:50:00Z"}
`);
    const patch = async (kind: string, name: string, status: unknown): Promise<void> => {
      const r = await env.kubectl(["patch", kind, name, "-n", ns, "--subresource=status", "--type=merge", "-p", JSON.stringify({ status })]);
      assert.equal(r.code, 0, r.stderr);
    };
    await patch("computehost", "lab.compute-1", { health: { state: "Failed", since: "2026-11-30T11:49:58Z", evidence: [{ source: "Heartbeat", observation: "silent for 2100 ms" }] }, currentIncidentRef: { name: "lab.compute-1-1" } });
    await patch("computehost", "lab.compute-2", { health: { state: "Healthy", since: "2026-11-30T10:00:00Z" } });
    await patch("incident", "lab.compute-1-1", { phase: "Evacuating", timestamps: { confirmedAt: "2026-11-30T11:50:00Z", fencedAt: "2026-11-30T11:50:03Z" }, instances: [{ id: "i-1", name: "db-1", state: "Evacuating", startedAt: "2026-11-30T11:50:04Z" }] });
  });

  after(() => rmSync(bin, { recursive: true, force: true }));

  const kubectl = (args: string[]) => runCommand(env.kubectlPath, args, { env: pathEnv });

  it("status shows hosts by health, the open incident and the host without fencing", async () => {
    const r = await kubectl(["vmkeeper", "status", "-n", ns]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /2 total: 1 Healthy, 1 Failed/);
    assert.match(r.stdout, /Failed lab\.compute-1 .*\(incident lab\.compute-1-1\)/);
    assert.match(r.stdout, /lab\.compute-1-1 +Evacuating/);
    assert.match(r.stdout, /lab\.compute-1: NotConfigured - no HostFencing selects lab\.compute-1/);
    assert.ok(!r.stdout.includes("\u001b["), "no colour on a pipe");
    const json = await kubectl(["vmkeeper", "status", "-n", ns, "-o", "json"]);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as { policies: { name: string; mode: string }[]; incidents: { open: { name: string; phase: string }[] } };
    assert.deepEqual(report.policies.map((p) => [p.name, p.mode]), [["keep", "KeepRunning"]]);
    assert.deepEqual(report.incidents.open.map((i) => [i.name, i.phase]), [["lab.compute-1-1", "Evacuating"]]);
    assert.equal(r.stderr, "", "no progress line on a pipe");
  });

  it("hosts, incidents and describe incident read the same objects; a bad context is a usage error", async () => {
    const hosts = await kubectl(["vmkeeper", "hosts", "-n", ns]);
    assert.equal(hosts.code, 0, hosts.stderr);
    assert.match(hosts.stdout, /lab\.compute-1 +Failed/);
    assert.match(hosts.stdout, /Heartbeat: silent for 2100 ms/);
    const all = await kubectl(["vmkeeper", "incidents", "-A"]);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, new RegExp(`${ns} +lab\\.compute-1-1 +lab\\.compute-1 +Evacuating`));
    const describe = await kubectl(["vmkeeper", "describe", "incident", "lab.compute-1-1", "-n", ns]);
    assert.equal(describe.code, 0, describe.stderr);
    assert.match(describe.stdout, /evacuate db-1 \(tier default, Evacuate, attempt 1\)/);
    const missing = await kubectl(["vmkeeper", "describe", "incident", "nope", "-n", ns]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no Incident "nope"/);
    const bad = await kubectl(["vmkeeper", "status", "--context", "no-such-context"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /context "no-such-context" is not in the kubeconfig/);
  });
});
