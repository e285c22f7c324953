import assert from "node:assert/strict";
import { RESERVED_HOST_REASON, seedCloud } from "../../../src/sim/seed-cloud.js";
import { createSimCloud } from "../../../src/sim/sim-cloud.js";
import { parseSimArgs } from "../../../src/sim/sim-command.js";
import { FakeClock } from "../../../src/util/fake-clock.js";

describe("seedCloud: aggregates and reserved spares", () => {
  it("splits the hosts into rack aggregates and adds empty disabled spares", () => {
    const cloud = createSimCloud(new FakeClock(), { seed: "racks" });
    const r = seedCloud(cloud, { hosts: 5, serversPerHost: 2, aggregates: 2, reservedHosts: 1 });
    assert.deepEqual(r, { hosts: 5, servers: 10, groups: 2 });
    const aggs = [...cloud.nova.aggregates.values()].map((a) => [a.name, [...a.hosts].sort()]);
    assert.deepEqual(aggs, [
      ["rack-a", ["compute-0001", "compute-0002", "compute-0003"]],
      ["rack-b", ["compute-0004", "compute-0005"]],
    ]);
    const spare = cloud.nova.hosts.get("compute-spare-01");
    assert.ok(spare);
    assert.equal(spare.servers.size, 0);
    assert.equal(spare.service.disabled, true);
    assert.equal(spare.service.disabledReason, RESERVED_HOST_REASON);
    assert.equal(cloud.nova.hosts.get("compute-0001")?.service.disabled, false);
  });

  it("takes --aggregates and --reserved-hosts", () => {
    const a = parseSimArgs(["--aggregates", "2", "--reserved-hosts=1"]);
    assert.ok(a !== "help");
    assert.equal(a.aggregates, 2);
    assert.equal(a.reservedHosts, 1);
  });
});
