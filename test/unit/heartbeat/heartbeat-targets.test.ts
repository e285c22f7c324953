import assert from "node:assert/strict";
import { ResolvingTargets, type LookupFn } from "../../../src/heartbeat/heartbeat-targets.js";
import { silentLogger } from "../../../src/util/logger.js";

describe("heartbeat targets", () => {
  it("keeps literals, resolves names to every address, de-duplicates", async () => {
    const lookup: LookupFn = (host) => {
      assert.equal(host, "vmkeeper-heartbeat.vmkeeper.svc");
      return Promise.resolve([
        { address: "10.0.0.1", family: 4 },
        { address: "10.0.0.2", family: 4 },
        { address: "fd00::3", family: 6 },
      ]);
    };
    const t = new ResolvingTargets(() => [{ host: "vmkeeper-heartbeat.vmkeeper.svc", port: 7946 }, { host: "10.0.0.1", port: 7946 }, { host: "::1", port: 9 }], silentLogger(), lookup);
    await t.refresh();
    assert.deepEqual(t.current(), [
      { address: "10.0.0.1", family: 4, port: 7946 },
      { address: "10.0.0.2", family: 4, port: 7946 },
      { address: "fd00::3", family: 6, port: 7946 },
      { address: "::1", family: 6, port: 9 },
    ]);
  });

  it("a failed lookup keeps the name's last good addresses", async () => {
    let fail = false;
    const lookup: LookupFn = () => (fail ? Promise.reject(new Error("ENOTFOUND")) : Promise.resolve([{ address: "10.0.0.9", family: 4 }]));
    const t = new ResolvingTargets(() => [{ host: "op.svc", port: 1 }], silentLogger(), lookup);
    await t.refresh();
    fail = true;
    await t.refresh();
    assert.deepEqual(t.current(), [{ address: "10.0.0.9", family: 4, port: 1 }]);
  });

  it("follows a changing list of specs (peers file reloads)", async () => {
    let specs = [{ host: "127.0.0.1", port: 1 }];
    const t = new ResolvingTargets(() => specs, silentLogger(), () => Promise.resolve([]));
    await t.refresh();
    specs = [{ host: "127.0.0.1", port: 2 }];
    await t.refresh();
    assert.deepEqual(t.current(), [{ address: "127.0.0.1", family: 4, port: 2 }]);
  });
});
