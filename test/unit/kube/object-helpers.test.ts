import assert from "node:assert/strict";
import { jsonEqual } from "../../../src/kube/deep-equal.js";
import { hasFinalizer, isDeleting, withFinalizer, withoutFinalizer } from "../../../src/kube/finalizers.js";
import { controllerReference, isControlledBy, setControllerReference } from "../../../src/kube/owner-references.js";
import { objectKey, resourcePath, splitKey } from "../../../src/kube/resource-type.js";
import { VMKEEPER_RESOURCES } from "../../../src/operator/vmkeeper-resources.js";

const cloud = { apiVersion: "ha.vmkeeper.dev/v1alpha1", kind: "OpenStackCloud", metadata: { name: "lab", namespace: "ns", uid: "u-1" } };

describe("object helpers", () => {
  it("finalizers: add once, remove once, detect deletion", () => {
    const obj = { metadata: { finalizers: ["a"] } };
    assert.deepEqual(withFinalizer(obj, "ha.vmkeeper.dev/fencing"), ["a", "ha.vmkeeper.dev/fencing"]);
    assert.equal(withFinalizer(obj, "a"), undefined);
    assert.deepEqual(withoutFinalizer(obj, "a"), []);
    assert.equal(withoutFinalizer(obj, "b"), undefined);
    assert.ok(hasFinalizer(obj, "a"));
    assert.equal(isDeleting(obj), false);
    assert.ok(isDeleting({ metadata: { deletionTimestamp: new Date() } }));
  });

  it("owner references: one controller, blockOwnerDeletion, recognised by uid", () => {
    const ref = controllerReference(cloud);
    assert.deepEqual(ref, { apiVersion: "ha.vmkeeper.dev/v1alpha1", kind: "OpenStackCloud", name: "lab", uid: "u-1", controller: true, blockOwnerDeletion: true });
    const child = { metadata: { ownerReferences: [{ apiVersion: "v1", kind: "X", name: "old", uid: "u-0", controller: true }, { apiVersion: "v1", kind: "Y", name: "y", uid: "u-2" }] } };
    const refs = setControllerReference(child, cloud);
    assert.deepEqual(refs.map((r) => r.uid), ["u-2", "u-1"], "the previous controller is replaced, other owners kept");
    assert.ok(isControlledBy({ metadata: { ownerReferences: refs } }, cloud));
    assert.throws(() => controllerReference({ metadata: { name: "x" } }), /uid/);
  });

  it("jsonEqual ignores key order and undefined fields", () => {
    assert.ok(jsonEqual({ a: 1, b: [1, { c: 2 }], d: undefined }, { b: [1, { c: 2 }], a: 1 }));
    assert.ok(!jsonEqual({ a: [1, 2] }, { a: [2, 1] }));
    assert.ok(!jsonEqual({ a: null }, { a: {} }));
  });

  it("builds REST paths and keys", () => {
    assert.equal(resourcePath(VMKEEPER_RESOURCES.Incident, "ns", "h1-3", "status"), "/apis/ha.vmkeeper.dev/v1alpha1/namespaces/ns/incidents/h1-3/status");
    assert.equal(resourcePath(VMKEEPER_RESOURCES.ComputeHost), "/apis/ha.vmkeeper.dev/v1alpha1/computehosts");
    assert.equal(resourcePath({ group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true }, "a", "b"), "/api/v1/namespaces/a/secrets/b");
    assert.equal(objectKey(cloud), "ns/lab");
    assert.deepEqual(splitKey("ns/lab"), { namespace: "ns", name: "lab" });
    assert.deepEqual(splitKey("node-1"), { namespace: undefined, name: "node-1" });
  });
});
