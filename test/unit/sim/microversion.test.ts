import assert from "node:assert/strict";
import { compareMicroversions, negotiateMicroversion, parseMicroversion, versionResponseHeaders } from "../../../src/sim/microversion.js";
import { NovaError } from "../../../src/sim/nova-error.js";

const max = { major: 2, minor: 93 };

describe("sim microversions", () => {
  it("orders minor versions numerically (2.9 < 2.10)", () => {
    const a = parseMicroversion("2.9");
    const b = parseMicroversion("2.10");
    assert.ok(a && b && compareMicroversions(a, b) < 0);
  });

  it("defaults to 2.1, honours both headers (the modern one first) and latest", () => {
    assert.deepEqual(negotiateMicroversion({}, max), { major: 2, minor: 1 });
    assert.deepEqual(negotiateMicroversion({ "x-openstack-nova-api-version": "2.53" }, max), { major: 2, minor: 53 });
    assert.deepEqual(negotiateMicroversion({ "openstack-api-version": "volume 3.5, compute 2.60", "x-openstack-nova-api-version": "2.53" }, max), { major: 2, minor: 60 });
    assert.deepEqual(negotiateMicroversion({ "openstack-api-version": "compute latest" }, max), max);
  });

  it("answers 406 outside the range and 400 for a malformed version", () => {
    assert.throws(() => negotiateMicroversion({ "openstack-api-version": "compute 2.95" }, max), (e: unknown) => e instanceof NovaError && e.status === 406 && /maximum is 2\.93/.test(e.message));
    assert.throws(() => negotiateMicroversion({ "openstack-api-version": "compute 2.0" }, max), (e: unknown) => e instanceof NovaError && e.status === 406);
    assert.throws(() => negotiateMicroversion({ "openstack-api-version": "compute two" }, max), (e: unknown) => e instanceof NovaError && e.status === 400);
  });

  it("echoes the version in both response headers", () => {
    const h = versionResponseHeaders({ major: 2, minor: 53 });
    assert.equal(h["openstack-api-version"], "compute 2.53");
    assert.equal(h["x-openstack-nova-api-version"], "2.53");
  });
});
