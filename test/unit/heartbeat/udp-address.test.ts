import assert from "node:assert/strict";
import { formatTarget, ipFamily, parseHostPort } from "../../../src/heartbeat/udp-address.js";

describe("udp addresses", () => {
  it("parses HOST:PORT, IPv4 and bracketed IPv6", () => {
    assert.deepEqual(parseHostPort("127.0.0.1:7946"), { host: "127.0.0.1", port: 7946 });
    assert.deepEqual(parseHostPort("[::]:7946"), { host: "::", port: 7946 });
    assert.deepEqual(parseHostPort("[fd00::1]:1"), { host: "fd00::1", port: 1 });
    assert.deepEqual(parseHostPort("vmkeeper-heartbeat.vmkeeper.svc:7946"), { host: "vmkeeper-heartbeat.vmkeeper.svc", port: 7946 });
    assert.deepEqual(parseHostPort(":7946"), { host: "0.0.0.0", port: 7946 });
  });

  it("rejects what is not HOST:PORT", () => {
    for (const bad of ["", "host", "host:", "host:70000", "::1:80", "[not-ip]:80", "a b:1", "[::1]"]) assert.equal(parseHostPort(bad), undefined, bad);
  });

  it("knows literals from names and formats IPv6 with brackets", () => {
    assert.equal(ipFamily("10.0.0.1"), 4);
    assert.equal(ipFamily("::1"), 6);
    assert.equal(ipFamily("example.org"), undefined);
    assert.equal(formatTarget({ address: "::1", port: 5 }), "[::1]:5");
    assert.equal(formatTarget({ address: "10.0.0.1", port: 5 }), "10.0.0.1:5");
  });
});
