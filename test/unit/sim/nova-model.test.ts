import assert from "node:assert/strict";
import { FakeClock } from "../../../src/util/fake-clock.js";
import { NovaError } from "../../../src/sim/nova-error.js";
import type { RequestContext } from "../../../src/sim/nova-types.js";
import { createSimCloud, type SimCloud } from "../../../src/sim/sim-cloud.js";
import type { NovaKnobs } from "../../../src/sim/sim-config.js";

function setup(knobs: Partial<NovaKnobs> = {}, hosts = ["c1", "c2", "c3"]): { clock: FakeClock; cloud: SimCloud; ctx: RequestContext } {
  const clock = new FakeClock();
  const cloud = createSimCloud(clock, { nova: { evacuationDurationMs: 2000, schedulingDelayMs: 100, powerActionDurationMs: 500, ...knobs } });
  cloud.nova.addHosts(hosts.map((name) => ({ name, vcpus: 8, memoryMb: 16_384, localGb: 200 })));
  const ctx: RequestContext = { userId: cloud.nova.defaultUserId, projectId: cloud.nova.defaultProjectId, isAdmin: true, requestId: "req-test-1" };
  return { clock, cloud, ctx };
}

function novaStatus(status: number, re?: RegExp): (e: unknown) => boolean {
  return (e: unknown) => e instanceof NovaError && e.status === status && (!re || re.test(e.message));
}

/** Kills a host and waits until Nova calls its service down (no force-down). */
async function killAndWaitDown(clock: FakeClock, cloud: SimCloud, host: string): Promise<void> {
  cloud.nova.killHost(host);
  await clock.advance(71_000);
}

describe("sim Nova model", () => {
  describe("services", () => {
    it("derives state from heartbeats: a killed host goes down within service_down_time + report_interval", async () => {
      const { clock, cloud } = setup();
      const svc = cloud.nova.hosts.get("c1")?.service;
      assert.ok(svc);
      cloud.nova.killHost("c1");
      await clock.advance(50_000);
      assert.equal(cloud.nova.serviceIsUp(svc), true);
      await clock.advance(21_000);
      cloud.nova.sync();
      assert.equal(cloud.nova.serviceIsUp(svc), false);
    });

    it("forced_down makes the state down at once; only nova-compute can be updated; Nova's refusals and messages", () => {
      const { cloud } = setup();
      const svc = cloud.nova.hosts.get("c1")?.service;
      assert.ok(svc);
      cloud.nova.updateService(svc.uuid, { forcedDown: true });
      assert.equal(cloud.nova.serviceIsUp(svc), false);
      cloud.nova.updateService(svc.uuid, { status: "disabled", disabledReason: "fenced by vmkeeper" });
      assert.equal(svc.disabledReason, "fenced by vmkeeper");
      cloud.nova.updateService(svc.uuid, { status: "enabled" });
      assert.equal(svc.disabledReason, null);
      // As in Nova: a reason without a status is ignored (nothing to update), with "enabled" it is refused.
      assert.throws(() => cloud.nova.updateService(svc.uuid, { disabledReason: "x" }), novaStatus(400, /^No updates were requested\. Fields 'status' or 'forced_down' should be specified\.$/));
      assert.throws(() => cloud.nova.updateService(svc.uuid, { status: "enabled", disabledReason: "x" }), novaStatus(400, /^Specifying 'disabled_reason' with status 'enabled' is invalid\.$/));
      assert.throws(() => cloud.nova.updateService("00000000-0000-4000-8000-00000000beef", { forcedDown: true }), novaStatus(404, /^Service 00000000-0000-4000-8000-00000000beef could not be found\.$/));
      const conductor = cloud.nova.controlServices[0];
      assert.ok(conductor);
      assert.throws(() => cloud.nova.updateService(conductor.uuid, { forcedDown: true }), novaStatus(400, /Only nova-compute/));
      assert.throws(() => cloud.nova.updateService("force-down", { forcedDown: true }), novaStatus(400, /Invalid uuid/));
    });
  });

  describe("evacuate guards", () => {
    it("refuses with 400 while the source compute service is up", () => {
      const { cloud, ctx } = setup();
      const [s] = cloud.nova.addServers([{ name: "a", host: "c1" }]);
      assert.ok(s);
      assert.throws(() => cloud.nova.evacuate(ctx, s.id), novaStatus(400, /Compute service of c1 is still in use\./));
    });

    it("refuses with 400 when the target host is the source", async () => {
      const { clock, cloud, ctx } = setup();
      const [s] = cloud.nova.addServers([{ name: "a", host: "c1" }]);
      assert.ok(s);
      await killAndWaitDown(clock, cloud, "c1");
      assert.throws(() => cloud.nova.evacuate(ctx, s.id, { host: "c1" }), novaStatus(400, /can't be the same one/));
      assert.throws(() => cloud.nova.evacuate(ctx, s.id, { host: "nope" }), novaStatus(404, /Compute host nope not found/));
    });

    it("refuses with 409 by vm_state only: a build waiting for a dead host's nova-compute cannot be evacuated", async () => {
      const { clock, cloud, ctx } = setup({ bootDurationMs: 500 });
      cloud.nova.killHost("c1");
      // Still up for the scheduler (service_down_time not yet passed): the boot is sent to c1 and waits.
      const [b] = cloud.nova.createServers(ctx, { name: "b", flavorId: "1", host: "c1" });
      assert.ok(b);
      await clock.advance(5_000);
      cloud.nova.sync();
      assert.equal(b.vmState, "building", "the build waits for c1's nova-compute");
      await clock.advance(66_000);
      assert.throws(() => cloud.nova.evacuate(ctx, b.id, { host: "c2" }), novaStatus(409, new RegExp(`^Cannot 'evacuate' instance ${b.id} while it is in vm_state building$`)));
      cloud.nova.restoreHost("c1");
      assert.equal(b.vmState, "active", "the queued build runs when c1's nova-compute starts");
    });

    it("has no task_state guard (like Nova's): a busy server is evacuated, a second evacuate is accepted and loses", async () => {
      const { clock, cloud, ctx } = setup();
      const [s] = cloud.nova.addServers([{ name: "a", host: "c1" }]);
      assert.ok(s);
      cloud.nova.stop(ctx, s.id);
      await killAndWaitDown(clock, cloud, "c1");
      assert.equal(s.taskState, "powering-off", "the stop waits for the dead host's nova-compute");
      const first = cloud.nova.evacuate({ ...ctx, requestId: "req-first" }, s.id);
      assert.equal(s.taskState, "rebuilding");
      const second = cloud.nova.evacuate({ ...ctx, requestId: "req-second" }, s.id);
      assert.deepEqual([first.status, second.status, second.sourceCompute], ["accepted", "accepted", "c1"]);
      await clock.advance(2_000);
      cloud.nova.sync();
      assert.deepEqual([s.vmState, s.taskState], ["active", null]);
      assert.notEqual(s.host, "c1");
      assert.deepEqual([first.status, second.status], ["done", "accepted"]);
      assert.equal(cloud.nova.getInstanceAction(ctx, s.id, "req-first").events[0]?.result, "Success");
      assert.equal(cloud.nova.getInstanceAction(ctx, s.id, "req-second").events[0]?.result, "Error");
      // Nova keys the returning host's evacuations by instance: only the newest is completed per start.
      const svc = cloud.nova.hosts.get("c1")?.service;
      assert.ok(svc);
      cloud.nova.updateService(svc.uuid, { forcedDown: true });
      cloud.nova.restoreHost("c1");
      assert.deepEqual([first.status, second.status], ["done", "completed"]);
      assert.throws(() => cloud.nova.updateService(svc.uuid, { forcedDown: false }), novaStatus(400, /Unable to force up host c1/));
      cloud.nova.stopCompute("c1");
      cloud.nova.startCompute("c1");
      assert.deepEqual([first.status, second.status], ["completed", "completed"]);
      cloud.nova.updateService(svc.uuid, { forcedDown: false });
    });
  });

  describe("asynchronous evacuation", () => {
    it("rebuilds on another host after the configured duration, honouring anti-affinity, and records a migration and an action", async () => {
      const { clock, cloud, ctx } = setup({}, ["c1", "c2", "c3"]);
      const g = cloud.nova.createServerGroup(ctx, "pair", "anti-affinity");
      const [a, b] = cloud.nova.addServers([
        { name: "a", host: "c1", groupId: g.id, flavorId: "1" },
        { name: "b", host: "c2", groupId: g.id, flavorId: "1" },
      ]);
      assert.ok(a && b);
      // Make c2 (the member's host) the emptiest host so only the filter keeps a away from it.
      cloud.nova.addServers([{ name: "filler", host: "c3", flavorId: "4" }]);
      await killAndWaitDown(clock, cloud, "c1");
      const m = cloud.nova.evacuate({ ...ctx, requestId: "req-evac" }, a.id);
      assert.equal(a.taskState, "rebuilding");
      assert.equal(m.status, "accepted");
      assert.equal(m.migrationType, "evacuation");
      await clock.advance(1_999);
      cloud.nova.sync();
      assert.equal(a.taskState, "rebuilding");
      await clock.advance(1);
      const after = cloud.nova.getServer(ctx, a.id);
      assert.equal(after.vmState, "active");
      assert.equal(after.taskState, null);
      assert.equal(after.host, "c3");
      assert.equal(m.status, "done");
      const [migration] = cloud.nova.listMigrations({ migrationType: "evacuation", instanceUuid: a.id }).items;
      assert.equal(migration?.destCompute, "c3");
      const action = cloud.nova.getInstanceAction(ctx, a.id, "req-evac");
      assert.equal(action.action, "evacuate");
      assert.equal(action.events[0]?.result, "Success");
    });

    it("keeps a stopped server SHUTOFF, and lands stopped when asked (2.95)", async () => {
      const { clock, cloud, ctx } = setup();
      const [stopped, active] = cloud.nova.addServers([
        { name: "s", host: "c1", vmState: "stopped" },
        { name: "a", host: "c1" },
      ]);
      assert.ok(stopped && active);
      await killAndWaitDown(clock, cloud, "c1");
      cloud.nova.evacuate(ctx, stopped.id);
      cloud.nova.evacuate(ctx, active.id, { landStopped: true });
      await clock.advance(2_000);
      cloud.nova.sync();
      assert.equal(stopped.vmState, "stopped");
      assert.equal(active.vmState, "stopped");
      assert.notEqual(active.host, "c1");
    });

    it("ends in ERROR with a fault and a failed migration at failure rate 1", async () => {
      const { clock, cloud, ctx } = setup({ evacuationFailureRate: 1, evacuationFailureMessage: "disk exploded" });
      const [s] = cloud.nova.addServers([{ name: "a", host: "c1" }]);
      assert.ok(s);
      await killAndWaitDown(clock, cloud, "c1");
      const m = cloud.nova.evacuate(ctx, s.id);
      await clock.advance(2_000);
      cloud.nova.sync();
      assert.equal(s.vmState, "error");
      assert.equal(s.fault?.message, "disk exploded");
      assert.equal(m.status, "failed");
      assert.equal(cloud.nova.listInstanceActions(ctx, s.id)[0]?.message, "Error");
      // ERROR servers may be evacuated again.
      cloud.nova.setKnobs({ evacuationFailureRate: 0 });
      cloud.nova.evacuate(ctx, s.id);
      await clock.advance(2_000);
      cloud.nova.sync();
      assert.equal(s.vmState, "active");
    });

    it("turns the server ERROR with 'No valid host was found' when nothing fits", async () => {
      const { clock, cloud, ctx } = setup({}, ["c1", "c2"]);
      const g = cloud.nova.createServerGroup(ctx, "pair", "anti-affinity");
      const [a] = cloud.nova.addServers([
        { name: "a", host: "c1", groupId: g.id },
        { name: "b", host: "c2", groupId: g.id },
      ]);
      assert.ok(a);
      await killAndWaitDown(clock, cloud, "c1");
      const m = cloud.nova.evacuate(ctx, a.id);
      await clock.advance(100);
      cloud.nova.sync();
      assert.equal(a.vmState, "error");
      assert.match(a.fault?.message ?? "", /No valid host was found/);
      assert.equal(m.status, "error");
      assert.equal(a.host, "c1");
    });

    it("honours max_server_per_host and capacity", async () => {
      const { clock, cloud, ctx } = setup({}, ["c1", "c2", "c3"]);
      const g = cloud.nova.createServerGroup(ctx, "g", "anti-affinity", { max_server_per_host: 2 });
      const [a] = cloud.nova.addServers([
        { name: "a", host: "c1", groupId: g.id },
        { name: "b", host: "c2", groupId: g.id },
        { name: "c", host: "c2", groupId: g.id },
        { name: "big", host: "c3", flavorId: "5" },
      ]);
      assert.ok(a);
      // c3 now has 16 GiB - 512 MiB reserved - 16 GiB used: no room; c2 has two members already.
      await killAndWaitDown(clock, cloud, "c1");
      cloud.nova.evacuate(ctx, a.id);
      await clock.advance(100);
      cloud.nova.sync();
      assert.equal(a.vmState, "error");
    });
  });

  describe("a returning host", () => {
    it("destroys evacuated copies when its nova-compute starts and marks migrations completed", async () => {
      const { clock, cloud, ctx } = setup({ powerSyncIntervalMs: 1_000 });
      const [gone, stays] = cloud.nova.addServers([
        { name: "gone", host: "c1" },
        { name: "stays", host: "c1" },
      ]);
      assert.ok(gone && stays);
      await killAndWaitDown(clock, cloud, "c1");
      const m = cloud.nova.evacuate(ctx, gone.id);
      await clock.advance(2_000);
      assert.deepEqual(cloud.nova.hostDebug("c1").staleGuests, [gone.id]);
      assert.equal(m.status, "done");
      const svc = cloud.nova.hosts.get("c1")?.service;
      assert.ok(svc);
      cloud.nova.updateService(svc.uuid, { forcedDown: true });
      // Nova refuses to lift forced_down while `done` evacuations away from the host remain.
      assert.throws(() => cloud.nova.updateService(svc.uuid, { forcedDown: false }), novaStatus(400, /^Unable to force up host c1 as `done` evacuation migration records remain associated with the host\./));
      assert.equal(svc.forcedDown, true);
      cloud.nova.restoreHost("c1");
      cloud.nova.updateService(svc.uuid, { forcedDown: false });
      assert.deepEqual(cloud.nova.hostDebug("c1").staleGuests, []);
      assert.equal(m.status, "completed");
      // The server left behind lost its power with the machine; Nova's power sync stops it.
      assert.equal(stays.powerState, 4);
      await clock.advance(1_000);
      cloud.nova.sync();
      assert.equal(stays.vmState, "stopped");
    });
  });

  describe("power actions and locks", () => {
    it("applies Nova's state guards to start, stop and reboot", async () => {
      const { clock, cloud, ctx } = setup();
      const [s] = cloud.nova.addServers([{ name: "a", host: "c1" }]);
      assert.ok(s);
      assert.throws(() => cloud.nova.start(ctx, s.id), novaStatus(409, /Cannot 'start' instance .* while it is in vm_state active/));
      cloud.nova.stop(ctx, s.id);
      assert.throws(() => cloud.nova.stop(ctx, s.id), novaStatus(409));
      await clock.advance(500);
      cloud.nova.sync();
      assert.equal(s.vmState, "stopped");
      assert.throws(() => cloud.nova.reboot(ctx, s.id, "SOFT"), novaStatus(409));
      cloud.nova.reboot(ctx, s.id, "HARD");
      await clock.advance(500);
      cloud.nova.sync();
      assert.equal(s.vmState, "active");
      assert.deepEqual(cloud.nova.listInstanceActions(ctx, s.id).map((a) => a.action), ["reboot", "stop", "create"]);
    });

    it("refuses actions on a locked server to non-admins with 409", () => {
      const { cloud, ctx } = setup();
      const [s] = cloud.nova.addServers([{ name: "a", host: "c1", projectId: cloud.nova.defaultProjectId }]);
      assert.ok(s);
      cloud.nova.lock(ctx, s.id, "maintenance");
      assert.equal(s.lockedReason, "maintenance");
      assert.throws(() => cloud.nova.stop({ ...ctx, isAdmin: false }, s.id), novaStatus(409, /is locked/));
      cloud.nova.unlock(ctx, s.id);
      cloud.nova.stop({ ...ctx, isAdmin: false }, s.id);
    });
  });

  describe("listing", () => {
    it("lists newest first, paginates with limit and marker, and filters by host through the index", () => {
      const { cloud, ctx } = setup();
      const made = cloud.nova.addServers(Array.from({ length: 7 }, (_, i) => ({ name: `s${i}`, host: i < 4 ? "c1" : "c2" })));
      const p1 = cloud.nova.listServers(ctx, { limit: 3 });
      assert.deepEqual(p1.items.map((s) => s.name), ["s6", "s5", "s4"]);
      assert.equal(p1.next, made[4]?.id);
      const p2 = cloud.nova.listServers(ctx, { limit: 3, marker: p1.next ?? "" });
      assert.deepEqual(p2.items.map((s) => s.name), ["s3", "s2", "s1"]);
      const p3 = cloud.nova.listServers(ctx, { limit: 3, marker: p2.next ?? "" });
      assert.deepEqual(p3.items.map((s) => s.name), ["s0"]);
      assert.equal(p3.next, null);
      assert.deepEqual(cloud.nova.listServers(ctx, { host: "c1" }).items.map((s) => s.name), ["s3", "s2", "s1", "s0"]);
      assert.throws(() => cloud.nova.listServers(ctx, { marker: "missing" }), novaStatus(400, /marker \[missing\] not found/));
    });

    it("caps pages at max_limit", () => {
      const { cloud, ctx } = setup({ maxLimit: 2 });
      cloud.nova.addServers([{ host: "c1" }, { host: "c1" }, { host: "c1" }]);
      const page = cloud.nova.listServers(ctx, { limit: 10 });
      assert.equal(page.items.length, 2);
      assert.notEqual(page.next, null);
    });
  });
});
