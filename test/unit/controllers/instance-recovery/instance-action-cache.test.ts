import assert from "node:assert/strict";
import { InstanceActionCache, toRecord, type InstanceActionsNova } from "../../../../src/controllers/instance-recovery/instance-action-cache.js";
import { recoverySettings } from "../../../../src/controllers/instance-recovery/recovery-settings.js";
import { parseInstanceAction } from "../../../../src/openstack/nova-parse.js";
import type { InstanceAction, Server } from "../../../../src/openstack/nova-types.js";
import { classifyDowntime } from "../../../../src/recovery/instance/classify-downtime.js";

const server = (updated: string): Server => ({ id: "vm-1", name: "web-1", status: "SHUTOFF", taskState: null, projectId: "p", metadata: {}, tags: [], flavor: {}, updated });

describe("instance actions as the planner reads them", () => {
  it("keeps Nova's null user (its own actions) apart from a missing one, which never passes for Nova's power sync", () => {
    const sync = parseInstanceAction({ action: "stop", request_id: "req-1", instance_uuid: "vm-1", start_time: "2026-11-22T10:00:00.000000", message: null, user_id: null, project_id: null }, "a");
    const bare = parseInstanceAction({ action: "stop", request_id: "req-2", instance_uuid: "vm-1", start_time: "2026-11-22T10:00:00.000000", message: "Error" }, "b");
    assert.equal(sync.userId, null);
    assert.equal(sync.projectId, null);
    assert.equal(bare.userId, undefined);
    assert.deepEqual(toRecord(sync), { action: "stop", requestId: "req-1", atMs: Date.parse("2026-11-22T10:00:00Z"), userId: null, failed: false });
    assert.equal(toRecord(bare).userId, "(unknown)");
    assert.equal(toRecord(bare).failed, true);
    const candidate = { id: "vm-1", name: "web-1", policy: "ns/p", tierPriority: 0, status: "SHUTOFF" as const, taskState: null, locked: false };
    assert.equal(classifyDowntime({ ...candidate, actions: [toRecord(sync)] }, "me").kind, "Unrequested");
    assert.equal(classifyDowntime({ ...candidate, actions: [toRecord(bare)] }, "me").kind, "UserRequest");
  });

  it("reads a history again only when the server changed, or after five minutes", async () => {
    let reads = 0;
    const nova: InstanceActionsNova = {
      listInstanceActions: () => {
        reads++;
        const list: InstanceAction[] = [
          { action: "create", requestId: "req-c", instanceUuid: "vm-1", startTime: "2026-11-22T09:00:00", message: null, userId: "u" },
          { action: "stop", requestId: `req-s${reads}`, instanceUuid: "vm-1", startTime: "2026-11-22T10:00:00", message: null, userId: null },
        ];
        return Promise.resolve(list);
      },
    };
    const cache = new InstanceActionCache();
    const first = await cache.read(nova, server("t1"), 0, {});
    assert.deepEqual(first.map((a) => a.action), ["stop", "create"], "newest first");
    await cache.read(nova, server("t1"), 60_000, {});
    assert.equal(reads, 1);
    await cache.read(nova, server("t2"), 60_000, {});
    assert.equal(reads, 2, "updated moved");
    await cache.read(nova, server("t2"), 60_000 + 5 * 60_000, {});
    assert.equal(reads, 3, "too old");
    cache.retain(new Set());
    assert.equal(cache.has(server("t2"), 60_000 + 5 * 60_000), false);
  });

  it("applies the CRD's defaults to a policy that sets nothing", () => {
    const s = recoverySettings({ apiVersion: "ha.vmkeeper.dev/v1alpha1", kind: "InstanceHAPolicy", metadata: { name: "p", namespace: "ns" }, spec: { cloudRef: { name: "c" }, selector: { allInstances: true } } });
    assert.deepEqual(s, {
      policy: "ns/p",
      mode: "KeepRunning",
      paused: false,
      enabled: true,
      unrequestedStopAction: "Restart",
      crashAction: "Restart",
      guestShutdownAction: "Honour",
      errorAction: "Restart",
      maxRecoveries: 3,
      windowMs: 3_600_000,
      minRestartIntervalMs: 60_000,
      minUptimeMs: 120_000,
    });
  });
});
