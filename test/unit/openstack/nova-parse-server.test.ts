import assert from "node:assert/strict";
import { parseServer } from "../../../src/openstack/nova-parse.js";

const base = { id: "s1", name: "vm", status: "ACTIVE", tenant_id: "p1", "OS-EXT-STS:task_state": null };

describe("parseServer: image, volumes and flavor id", () => {
  it("reads the image id of an image-backed server and its attached volumes", () => {
    const s = parseServer(
      { ...base, image: { id: "img-1", links: [] }, "os-extended-volumes:volumes_attached": [{ id: "vol-1", delete_on_termination: false }, { bogus: 1 }], flavor: { original_name: "m1.small", vcpus: 1, ram: 2048, disk: 20 } },
      "server",
    );
    assert.equal(s.imageId, "img-1");
    assert.deepEqual(s.volumesAttached, ["vol-1"]);
    assert.equal(s.flavor.id, undefined);
    assert.equal(s.flavor.originalName, "m1.small");
  });

  it("gives an empty image id for a server booted from a volume", () => {
    const s = parseServer({ ...base, image: "", "os-extended-volumes:volumes_attached": [{ id: "root-vol" }], flavor: {} }, "server");
    assert.equal(s.imageId, "");
    assert.deepEqual(s.volumesAttached, ["root-vol"]);
  });

  it("leaves image and volumes unset when Nova does not report them, and keeps a pre-2.47 flavor id", () => {
    const s = parseServer({ ...base, flavor: { id: "42", links: [] } }, "server");
    assert.equal(s.imageId, undefined);
    assert.equal(s.volumesAttached, undefined);
    assert.equal(s.flavor.id, "42");
  });
});

describe("parseServer: fault", () => {
  it("reads Nova's fault of an ERROR server (the evacuation's NoValidHost)", () => {
    const s = parseServer({ ...base, status: "ERROR", fault: { code: 500, created: "2026-01-01T00:00:00Z", message: "No valid host was found. There are not enough hosts available." } }, "server");
    assert.deepEqual(s.fault, { code: 500, message: "No valid host was found. There are not enough hosts available." });
    assert.equal(parseServer(base, "server").fault, undefined);
  });
});
