import assert from "node:assert/strict";
import { parsePeerList, PeerListError } from "../../../src/agent/peer-list.js";

describe("peer list", () => {
  it("parses host=addr:port by commas or lines, with comments", () => {
    const peers = parsePeerList("compute-2=10.0.0.2:7947, compute-3=[fd00::3]:7947\n# spare\ncompute-4=compute-4.lab:7947\n", "peers.txt");
    assert.deepEqual(peers, [
      { host: "compute-2", endpoint: { host: "10.0.0.2", port: 7947 } },
      { host: "compute-3", endpoint: { host: "fd00::3", port: 7947 } },
      { host: "compute-4", endpoint: { host: "compute-4.lab", port: 7947 } },
    ]);
    assert.deepEqual(parsePeerList("", "x"), []);
  });

  it("rejects malformed entries and duplicates, naming the source", () => {
    assert.throws(() => parsePeerList("compute-2", "peers.txt"), (e: unknown) => e instanceof PeerListError && /peers.txt: "compute-2" is not host=addr:port/.test(e.message));
    assert.throws(() => parsePeerList("=1.2.3.4:5", "--peers"), PeerListError);
    assert.throws(() => parsePeerList("a=1.2.3.4:0", "--peers"), PeerListError);
    assert.throws(() => parsePeerList("a=1.2.3.4:5,a=1.2.3.5:5", "--peers"), /listed twice/);
  });
});
