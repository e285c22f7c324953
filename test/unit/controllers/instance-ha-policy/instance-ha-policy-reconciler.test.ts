import assert from "node:assert/strict";
import type { ComputeHost, InstanceHAPolicy, OpenStackCloud } from "../../../../src/api/v1alpha1/index.js";
import { Registry } from "prom-client";
import { InstanceHAPolicyReconciler, policyKeysForCloud, type PolicyNova, type PolicyStore } from "../../../../src/controllers/instance-ha-policy/instance-ha-policy-reconciler.js";
import { policyMetrics, type PolicyMetrics } from "../../../../src/controllers/instance-ha-policy/policy-metrics.js";
import type { ReconcileContext } from "../../../../src/kube/controller.js";
import type { EventRecorder, EventType } from "../../../../src/kube/event-recorder.js";
import type { KubeObject } from "../../../../src/kube/resource-type.js";
import { TransportError } from "../../../../src/openstack/http-transport.js";
import type { Server } from "../../../../src/openstack/nova-types.js";
import { FakeClock } from "../../../../src/util/fake-clock.js";
import { silentLogger } from "../../../../src/util/logger.js";

const NS = "ha";

function policy(name: string, spec: Partial<InstanceHAPolicy["spec"]> = {}): InstanceHAPolicy {
  return {
    apiVersion: "ha.vmkeeper.dev/v1alpha1",
    kind: "InstanceHAPolicy",
    metadata: { name, namespace: NS, generation: 1, uid: `uid-${name}`, resourceVersion: "1" },
    spec: { cloudRef: { name: "lab" }, selector: { allInstances: true }, ...spec },
  };
}

function cloud(ready: boolean): OpenStackCloud {
  return {
    apiVersion: "ha.vmkeeper.dev/v1alpha1",
    kind: "OpenStackCloud",
    metadata: { name: "lab", namespace: NS },
    spec: { secretRef: { name: "creds" }, cloudName: "lab" },
    status: { conditions: [{ type: "Ready", status: ready ? "True" : "False", reason: ready ? "Connected" : "EndpointUnreachable", message: ready ? "ok" : "Keystone is unreachable", lastTransitionTime: "2026-01-01T00:00:00Z" }] },
  };
}

function host(name: string): ComputeHost {
  return {
    apiVersion: "ha.vmkeeper.dev/v1alpha1",
    kind: "ComputeHost",
    metadata: { name: `lab.${name}`, namespace: NS },
    spec: { cloudRef: { name: "lab" }, serviceHost: name },
    status: { nova: { state: "Up", status: "Enabled", forcedDown: false }, aggregates: [], capacity: { vcpus: { used: 0, total: 64 }, memoryMiB: { used: 0, total: 65536 }, diskGiB: { used: 0, total: 1000 } } },
  };
}

const server = (id: string, h: string, over: Partial<Server> = {}): Server => ({
  id,
  name: id,
  status: "ACTIVE",
  vmState: "active",
  taskState: null,
  projectId: "p-1",
  host: h,
  metadata: {},
  tags: [],
  imageId: "",
  flavor: { originalName: "m1.small", vcpus: 1, ramMb: 2048, diskGb: 20 },
  ...over,
});

class World implements PolicyStore, EventRecorder {
  policies = new Map<string, InstanceHAPolicy>();
  cloud: OpenStackCloud | undefined = cloud(true);
  hosts = [host("c1"), host("c2")];
  servers: Server[] = [server("vm-1", "c1"), server("vm-2", "c2")];
  serverLists = 0;
  novaError: Error | undefined;
  writes = 0;
  events: { type: EventType; reason: string; note: string; name: string }[] = [];
  readonly clock = new FakeClock();

  readonly nova: PolicyNova = {
    listServers: async () => {
      this.serverLists++;
      if (this.novaError) throw this.novaError;
      return structuredClone(this.servers);
    },
    listServerGroups: async () => [],
    listFlavors: async () => [],
  };

  async get(_ns: string | undefined, name: string): Promise<InstanceHAPolicy | undefined> {
    const p = this.policies.get(name);
    return p ? structuredClone(p) : undefined;
  }

  async updateStatus(obj: InstanceHAPolicy): Promise<InstanceHAPolicy> {
    this.writes++;
    const name = obj.metadata?.name ?? "";
    const stored = { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(this.writes + 1) } };
    this.policies.set(name, stored);
    return structuredClone(stored);
  }

  async record(regarding: KubeObject, type: EventType, reason: string, _action: string, note: string): Promise<void> {
    this.events.push({ type, reason, note, name: regarding.metadata?.name ?? "" });
  }

  reconciler(metrics?: PolicyMetrics): InstanceHAPolicyReconciler {
    return new InstanceHAPolicyReconciler({
      ...(metrics ? { metrics } : {}),
      policies: this,
      getCloud: async () => this.cloud,
      connectionFor: async () => (this.cloud ? this.nova : undefined),
      listPolicies: () => [...this.policies.values()],
      listHosts: () => this.hosts,
      events: this,
      clock: this.clock,
    });
  }
}

const ctx = (): ReconcileContext => ({ log: silentLogger(), reconcileID: "r", signal: new AbortController().signal });
const req = (name: string) => ({ key: `${NS}/${name}`, namespace: NS, name });
const cond = (p: InstanceHAPolicy | undefined, type: string) => p?.status?.conditions?.find((c) => c.type === type);

describe("InstanceHAPolicyReconciler", () => {
  it("writes the status once, with Events for the new conditions, and not again when nothing changed", async () => {
    const w = new World();
    w.policies.set("all", policy("all", { recovery: { unsafeSkipPowerFencing: true } }));
    const r = w.reconciler();
    const res = await r.reconcile(req("all"), ctx());
    assert.deepEqual(res, { requeueAfterMs: 60_000 });
    const p = w.policies.get("all");
    assert.equal(p?.status?.protectedCount, 2);
    assert.equal(p?.status?.observedGeneration, 1);
    assert.equal(cond(p, "Ready")?.reason, "Protecting");
    assert.equal(cond(p, "FailoverCapacitySufficient")?.status, "True");
    assert.equal(w.writes, 1);
    assert.ok(w.events.some((e) => e.type === "Warning" && e.reason === "UnsafeFencingSkipped"), "the unsafe knob is reported loudly");
    const eventsAfterFirst = w.events.length;
    await w.clock.advance(60_000);
    await r.reconcile(req("all"), ctx());
    assert.equal(w.writes, 1, "no write when nothing changed");
    assert.equal(w.events.length, eventsAfterFirst, "no Event without a transition");
  });

  it("reports the cloud not ready (and missing), keeps the last figures, and recovers", async () => {
    const w = new World();
    w.policies.set("all", policy("all"));
    const r = w.reconciler();
    await r.reconcile(req("all"), ctx());
    w.cloud = cloud(false);
    const res = await r.reconcile(req("all"), ctx());
    assert.deepEqual(res, { requeueAfterMs: 15_000 });
    let p = w.policies.get("all");
    assert.equal(cond(p, "Ready")?.reason, "CloudNotReady");
    assert.match(cond(p, "Ready")?.message ?? "", /EndpointUnreachable: Keystone is unreachable/);
    assert.equal(cond(p, "FailoverCapacitySufficient")?.status, "Unknown");
    assert.equal(p?.status?.protectedCount, 2, "last figures kept");
    assert.ok(w.events.some((e) => e.type === "Warning" && e.reason === "CloudNotReady"));
    w.cloud = undefined;
    await r.reconcile(req("all"), ctx());
    p = w.policies.get("all");
    assert.equal(cond(p, "Ready")?.reason, "CloudNotFound");
    w.cloud = cloud(true);
    await r.reconcile(req("all"), ctx());
    p = w.policies.get("all");
    assert.equal(cond(p, "Ready")?.status, "True");
    assert.ok(w.events.some((e) => e.type === "Normal" && e.reason === "Protecting"));
  });

  it("turns a Nova connection failure into CloudNotReady; other errors are thrown for a retry with backoff", async () => {
    const w = new World();
    w.policies.set("all", policy("all"));
    const r = w.reconciler();
    w.novaError = new TransportError("connection", "connect ECONNREFUSED 127.0.0.1:5000", "ECONNREFUSED");
    await r.reconcile(req("all"), ctx());
    assert.equal(cond(w.policies.get("all"), "Ready")?.reason, "CloudNotReady");
    assert.match(cond(w.policies.get("all"), "Ready")?.message ?? "", /ECONNREFUSED/);
    w.novaError = new Error("bug");
    await assert.rejects(r.reconcile(req("all"), ctx()), /bug/);
  });

  it("resolves overlap with the other policies of the cloud and shares one instance list between them", async () => {
    const w = new World();
    w.policies.set("all", policy("all"));
    w.policies.set("vip", policy("vip", { priority: 10, selector: { instanceIds: ["vm-1"] } }));
    w.policies.set("other-cloud", { ...policy("other-cloud", { priority: 100 }), spec: { cloudRef: { name: "elsewhere" }, selector: { allInstances: true }, priority: 100 } });
    const r = w.reconciler();
    await r.reconcile(req("all"), ctx());
    await r.reconcile(req("vip"), ctx());
    assert.equal(w.serverLists, 1, "the second policy of the cloud reuses the instance list");
    const all = w.policies.get("all");
    assert.equal(all?.status?.protectedCount, 1);
    assert.deepEqual(all?.status?.unprotected?.map((u) => [u.instanceId, u.reason]), [["vm-1", "ClaimedByOtherPolicy"]]);
    assert.match(cond(all, "Overlapping")?.message ?? "", /ha\/vip/);
    assert.doesNotMatch(cond(all, "Overlapping")?.message ?? "", /other-cloud/, "a policy of another cloud never overlaps");
    assert.equal(w.policies.get("vip")?.status?.protectedCount, 1);
    await w.clock.advance(11_000);
    await r.reconcile(req("all"), ctx());
    assert.equal(w.serverLists, 2, "the list is read again after its TTL");
  });

  it("does nothing for a policy that is gone or being deleted", async () => {
    const w = new World();
    const r = w.reconciler();
    assert.equal(await r.reconcile(req("nope"), ctx()), undefined);
    w.policies.set("del", { ...policy("del"), metadata: { ...policy("del").metadata, deletionTimestamp: new Date() } });
    assert.equal(await r.reconcile(req("del"), ctx()), undefined);
    assert.equal(w.writes, 0);
  });

  it("sets vmkeeper_protected_instances{namespace,policy} from the status and removes it with the policy", async () => {
    const w = new World();
    const registry = new Registry();
    w.policies.set("all", policy("all"));
    w.policies.set("vip", policy("vip", { priority: 10, selector: { instanceIds: ["vm-1"] } }));
    const r = w.reconciler(policyMetrics(registry));
    await r.reconcile(req("all"), ctx());
    await r.reconcile(req("vip"), ctx());
    const text = await registry.metrics();
    assert.match(text, /vmkeeper_protected_instances\{namespace="ha",policy="all"\} 1/);
    assert.match(text, /vmkeeper_protected_instances\{namespace="ha",policy="vip"\} 1/);
    w.policies.delete("vip");
    await r.reconcile(req("vip"), ctx());
    assert.doesNotMatch(await registry.metrics(), /policy="vip"/);
  });

  it("maps a cloud to the keys of its policies", () => {
    const ps = [policy("a"), policy("b"), { ...policy("c"), spec: { cloudRef: { name: "x" }, selector: { allInstances: true } } }];
    assert.deepEqual(policyKeysForCloud(ps, NS, "lab"), ["ha/a", "ha/b"]);
    assert.deepEqual(policyKeysForCloud(ps, "other", "lab"), []);
  });
});
