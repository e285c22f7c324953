import assert from "node:assert/strict";
import { PeerMonitor } from "../../../src/agent/peer-monitor.js";
import type { HostKey } from "../../../src/heartbeat/heartbeat-table.js";
import { FakeClock } from "../../../src/util/fake-clock.js";

describe("peer monitor", () => {
  function setup() {
    const clock = new FakeClock();
    const seen = new Map<string, number>();
    const monitor = new PeerMonitor({ cloud: "lab", self: "c1", clock, windowMs: 3000, seen: { lastSeenMs: (k: HostKey) => (k.cloud === "lab" ? seen.get(k.host) : undefined) } });
    return { clock, seen, monitor };
  }

  it("does not accuse peers during the first window after they were added", async () => {
    const { clock, monitor } = setup();
    monitor.setPeers(["c1", "c2", "c3"]);
    assert.deepEqual(monitor.peers(), ["c2", "c3"], "never its own peer");
    assert.deepEqual(monitor.report(), { heard: 0, unreachable: [], unreachableTotal: 0 });
    await clock.advance(3001);
    assert.deepEqual(monitor.report(), { heard: 0, unreachable: ["c2", "c3"], unreachableTotal: 2 });
  });

  it("reports peers not heard within the window", async () => {
    const { clock, seen, monitor } = setup();
    monitor.setPeers(["c2", "c3", "c4"]);
    seen.set("c2", 0);
    seen.set("c3", 0);
    await clock.advance(2000);
    seen.set("c3", 2000);
    assert.deepEqual(monitor.report(), { heard: 2, unreachable: [], unreachableTotal: 0 });
    await clock.advance(2000);
    assert.deepEqual(monitor.report(), { heard: 1, unreachable: ["c2", "c4"], unreachableTotal: 2 });
    monitor.setPeers(["c3"]);
    assert.deepEqual(monitor.report(), { heard: 1, unreachable: [], unreachableTotal: 0 });
  });
});
