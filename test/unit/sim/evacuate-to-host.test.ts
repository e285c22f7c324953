import assert from "node:assert/strict";
import type { RequestContext } from "../../../src/sim/nova-types.js";
import { createSimCloud } from "../../../src/sim/sim-cloud.js";
import { FakeClock } from "../../../src/util/fake-clock.js";

describe("sim Nova: evacuate to a named host (no force) goes through the scheduler's filters", () => {
  it("a disabled target ends in NoValidHost (ERROR on the source, migration error); once enabled the same request lands there", async () => {
    const clock = new FakeClock();
    const cloud = createSimCloud(clock, { nova: { evacuationDurationMs: 2000, schedulingDelayMs: 100 } });
    cloud.nova.addHosts(["c1", "c2", "spare"].map((name) => ({ name, vcpus: 8, memoryMb: 16_384, localGb: 200 })));
    const ctx: RequestContext = { userId: cloud.nova.defaultUserId, projectId: cloud.nova.defaultProjectId, isAdmin: true, requestId: "req-1" };
    const spare = cloud.nova.hosts.get("spare")?.service;
    const c1 = cloud.nova.hosts.get("c1")?.service;
    assert.ok(spare && c1);
    cloud.nova.updateService(spare.uuid, { status: "disabled", disabledReason: "spare" });
    const [s] = cloud.nova.addServers([{ name: "a", host: "c1" }]);
    assert.ok(s);
    cloud.nova.killHost("c1");
    cloud.nova.updateService(c1.uuid, { forcedDown: true });

    const refused = cloud.nova.evacuate(ctx, s.id, { host: "spare" });
    await clock.advance(200);
    cloud.nova.sync();
    assert.deepEqual([s.vmState, s.host, refused.status, refused.destCompute], ["error", "c1", "error", null]);
    assert.match(s.fault?.message ?? "", /No valid host was found/);

    cloud.nova.updateService(spare.uuid, { status: "enabled" });
    const accepted = cloud.nova.evacuate({ ...ctx, requestId: "req-2" }, s.id, { host: "spare" });
    assert.equal(accepted.destCompute, "spare", "the scheduler's choice shows in the migration at once");
    await clock.advance(2000);
    cloud.nova.sync();
    assert.deepEqual([s.vmState, s.host, accepted.status], ["active", "spare", "done"]);
  });
});
