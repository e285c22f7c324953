import assert from "node:assert/strict";
import type { InstanceHAPolicy } from "../../../../src/api/v1alpha1/index.js";
import { guestSessionSettings, settingsGroups } from "../../../../src/controllers/guest-settings/guest-session-settings.js";
import { GuestSettingsReconciler } from "../../../../src/controllers/guest-settings/guest-settings-reconciler.js";
import type { ReconcileContext } from "../../../../src/kube/controller.js";
import type { GuestSettingsGroup } from "../../../../src/server-group-messaging/link-messages.js";
import { silentLogger } from "../../../../src/util/logger.js";

const policy = (name: string, spec: Partial<InstanceHAPolicy["spec"]>): InstanceHAPolicy => ({ apiVersion: "ha.vmkeeper.dev/v1alpha1", kind: "InstanceHAPolicy", metadata: { name, namespace: "ha" }, spec: { cloudRef: { name: "lab" }, selector: { allInstances: true }, ...spec } });
const A = "00000000-0000-4000-8000-00000000000a";
const B = "00000000-0000-4000-8000-00000000000b";
const C = "00000000-0000-4000-8000-00000000000c";

describe("guest session settings from a policy", () => {
  it("maps the sensitivity presets and Custom, with the application threshold", () => {
    const at = (g: InstanceHAPolicy["spec"]["guestMonitoring"], a?: InstanceHAPolicy["spec"]["appMonitoring"]) => guestSessionSettings(policy("p", { guestMonitoring: g, ...(a ? { appMonitoring: a } : {}) }));
    assert.deepEqual(at({ enabled: true, sensitivity: "High" }), { intervalMs: 1000, threshold: 3, unhealthyThreshold: 3, appUnhealthyThreshold: 3 });
    assert.deepEqual(at({ enabled: true }), { intervalMs: 2000, threshold: 5, unhealthyThreshold: 5, appUnhealthyThreshold: 3 }, "Medium is the default");
    assert.deepEqual(at({ enabled: true, sensitivity: "Low" }, { enabled: true, failureThreshold: 7 }), { intervalMs: 5000, threshold: 6, unhealthyThreshold: 6, appUnhealthyThreshold: 7 });
    assert.deepEqual(at({ enabled: true, sensitivity: "Custom", intervalMilliseconds: 400, failureThreshold: 2 }), { intervalMs: 400, threshold: 2, unhealthyThreshold: 2, appUnhealthyThreshold: 3 });
  });

  it("has nothing to say for a policy that monitors neither guest nor applications, or is Disabled", () => {
    assert.equal(guestSessionSettings(policy("p", {})), undefined);
    assert.equal(guestSessionSettings(policy("p", { mode: "Disabled", guestMonitoring: { enabled: true } })), undefined);
    assert.ok(guestSessionSettings(policy("p", { appMonitoring: { enabled: true } })), "application monitoring alone needs a session too");
  });

  it("groups instances by setting, in a stable order", () => {
    const hi = { intervalMs: 1000, threshold: 3, unhealthyThreshold: 3, appUnhealthyThreshold: 3 };
    const lo = { intervalMs: 5000, threshold: 6, unhealthyThreshold: 6, appUnhealthyThreshold: 3 };
    const one = settingsGroups(new Map([[C, hi], [A, lo], [B, hi]]));
    const two = settingsGroups(new Map([[B, hi], [C, hi], [A, lo]]));
    assert.deepEqual(one, two);
    assert.deepEqual(one.map((g) => [g.intervalMs, g.instances]), [[1000, [B, C]], [5000, [A]]]);
  });
});

describe("GuestSettingsReconciler", () => {
  const ctx = (): ReconcileContext => ({ log: silentLogger(), reconcileID: "r", signal: new AbortController().signal });
  const req = { key: "compute-1", namespace: undefined, name: "compute-1" };

  function world() {
    const sent: GuestSettingsGroup[][] = [];
    const w = {
      sent,
      now: 0,
      generation: 1,
      connected: true,
      ready: true,
      owners: new Map<string, string>([[A, "ha/fast"], [B, "ha/plain"]]),
      policies: new Map<string, InstanceHAPolicy>([["ha/fast", policy("fast", { guestMonitoring: { enabled: true, sensitivity: "High" } })], ["ha/plain", policy("plain", {})]]),
    };
    const r = new GuestSettingsReconciler({
      channels: () => [A, B, C],
      generation: () => w.generation,
      sendSettings: (_h, groups) => (w.connected ? (sent.push(groups), true) : false),
      ownerOf: (id) => w.owners.get(id),
      getPolicy: (ns, name) => w.policies.get(`${ns}/${name}`),
      nowMs: () => w.now,
      protectionReady: () => w.ready,
    });
    return { w, r };
  }

  it("sends the settings of protected, monitored instances only, and again only on a change, a reconnect or after a minute", async () => {
    const { w, r } = world();
    await r.reconcile(req, ctx());
    assert.deepEqual(w.sent, [[{ intervalMs: 1000, threshold: 3, unhealthyThreshold: 3, appUnhealthyThreshold: 3, instances: [A] }]]);
    await r.reconcile(req, ctx());
    assert.equal(w.sent.length, 1, "unchanged");
    w.policies.set("ha/plain", policy("plain", { guestMonitoring: { enabled: true, sensitivity: "Low" } }));
    await r.reconcile(req, ctx());
    assert.equal(w.sent.length, 2);
    assert.deepEqual(w.sent[1]?.map((g) => g.instances), [[A], [B]]);
    w.generation = 2;
    await r.reconcile(req, ctx());
    assert.equal(w.sent.length, 3, "a reopened stream is told again");
    w.now = 60_000;
    await r.reconcile(req, ctx());
    assert.equal(w.sent.length, 4, "resent after a minute");
  });

  it("a new leader waits for the protection index (at most 30 s) instead of sending an empty set first", async () => {
    const { w, r } = world();
    w.ready = false;
    const wait = await r.reconcile(req, ctx());
    assert.deepEqual([w.sent.length, wait?.requeueAfterMs], [0, 1000]);
    w.now = 30_000;
    await r.reconcile(req, ctx());
    assert.equal(w.sent.length, 1, "sends what it knows after the wait");
  });

  it("sends an empty set when nothing is protected any more (the agent goes back to its own settings), and retries after a failed send", async () => {
    const { w, r } = world();
    w.connected = false;
    await r.reconcile(req, ctx());
    assert.equal(w.sent.length, 0);
    w.connected = true;
    w.owners.clear();
    await r.reconcile(req, ctx());
    assert.deepEqual(w.sent, [[]]);
  });
});
