import assert from "node:assert/strict";
import { HeartbeatTable } from "../../../src/heartbeat/heartbeat-table.js";
import { BOOT_1, BOOT_2, message } from "./heartbeat-fixtures.js";

describe("heartbeat table", () => {
  it("records lastSeenMs on the receiver's clock, interval and the peer report", () => {
    const t = new HeartbeatTable();
    assert.equal(t.accept(message({ peers: { heard: 2, unreachable: ["compute-3"], unreachableTotal: 1 } }), 500, -12), "accepted");
    const h = t.get({ cloud: "lab", host: "compute-1" });
    assert.ok(h);
    assert.equal(h.lastSeenMs, 500);
    assert.equal(h.intervalMs, 1000);
    assert.equal(h.peersHeard, 2);
    assert.deepEqual(h.unreachablePeers, ["compute-3"]);
    assert.equal(h.peerReportMs, 500);
    assert.equal(h.clockOffsetMs, -12);
    assert.equal(t.lastSeenMs({ cloud: "other", host: "compute-1" }), undefined, "hosts are per cloud");
  });

  it("requires the sequence to increase within a boot (replays and reordering are dropped)", () => {
    const t = new HeartbeatTable();
    assert.equal(t.accept(message({ seq: 5 }), 0, 0), "accepted");
    assert.equal(t.accept(message({ seq: 5 }), 10, 0), "replay");
    assert.equal(t.accept(message({ seq: 4 }), 10, 0), "replay");
    assert.equal(t.lastSeenMs({ cloud: "lab", host: "compute-1" }), 0, "a replay does not refresh liveness");
    assert.equal(t.accept(message({ seq: 9 }), 20, 0), "accepted");
    assert.equal(t.get({ cloud: "lab", host: "compute-1" })?.lastSeq, 9);
  });

  it("a new boot id resets the sequence; a replaced boot id is never accepted again", () => {
    const t = new HeartbeatTable();
    assert.equal(t.accept(message({ seq: 900 }), 0, 0), "accepted");
    assert.equal(t.accept(message({ bootId: BOOT_2, seq: 1 }), 10, 0), "accepted");
    const h = t.get({ cloud: "lab", host: "compute-1" });
    assert.equal(h?.bootId, BOOT_2);
    assert.equal(h?.bootChanges, 1);
    assert.equal(t.accept(message({ bootId: BOOT_1, seq: 901 }), 20, 0), "replay");
    assert.equal(t.accept(message({ bootId: BOOT_2, seq: 2 }), 30, 0), "accepted");
  });

  it("bounds the number of hosts", () => {
    const t = new HeartbeatTable(2);
    assert.equal(t.accept(message({ host: "a" }), 0, 0), "accepted");
    assert.equal(t.accept(message({ host: "b" }), 0, 0), "accepted");
    assert.equal(t.accept(message({ host: "c" }), 0, 0), "host_limit");
    assert.equal(t.accept(message({ host: "a", seq: 2 }), 0, 0), "accepted");
    assert.ok(t.forget({ cloud: "lab", host: "b" }));
    assert.equal(t.accept(message({ host: "c" }), 0, 0), "accepted");
  });

  it("peerViewOf counts fresh, non-empty reports of the same cloud that list the host", () => {
    const t = new HeartbeatTable();
    const report = (host: string, heard: number, unreachable: string[], atMs: number, cloud = "lab"): void => {
      assert.equal(t.accept(message({ cloud, host, seq: atMs + 1, peers: { heard, unreachable, unreachableTotal: unreachable.length } }), atMs, 0), "accepted");
    };
    report("c1", 2, ["c4"], 1000);
    report("c2", 1, ["c1", "c4"], 1000);
    report("c3", 3, [], 1000);
    report("c4", 0, ["c1", "c2", "c3"], 0); // last report long ago: outside the window
    report("c5", 0, [], 1000); // an agent that has not decided anything yet: not a reporter
    report("x1", 0, ["c4"], 1000, "other"); // another cloud
    assert.deepEqual(t.peerViewOf({ cloud: "lab", host: "c4" }, 1500, 1000), { reporting: 3, unreachable: 2, unreachableBy: ["c1", "c2"] });
    assert.deepEqual(t.peerViewOf({ cloud: "lab", host: "c1" }, 1500, 1000), { reporting: 2, unreachable: 1, unreachableBy: ["c2"] });
    assert.deepEqual(t.peerViewOf({ cloud: "lab", host: "c4" }, 2500, 1000), { reporting: 0, unreachable: 0, unreachableBy: [] });
    const index = t.peerViews("lab", 1500, 1000);
    assert.equal(index.reporters, 3);
    for (const h of ["c1", "c2", "c3", "c4", "c5", "never-heard"]) assert.deepEqual(index.of(h), t.peerViewOf({ cloud: "lab", host: h }, 1500, 1000), h);
  });
});
