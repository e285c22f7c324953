import assert from "node:assert/strict";
import { checkCloudSecret } from "../../../../src/controllers/openstack-cloud/cloud-secret-check.js";

const b64 = (s: string): string => Buffer.from(s).toString("base64");
const spec = { secretRef: { name: "creds" }, cloudName: "lab" };
const good = `clouds:\n  lab:\n    auth:\n      auth_url: https://user:pw@keystone.test:5000/v3\n      password: s3cret-value\n`;

describe("OpenStackCloud secret check", () => {
  it("accepts a clouds.yaml with the named cloud, and strips credentials from the auth URL", () => {
    const r = checkCloudSecret(spec, { data: { "clouds.yaml": b64(good) } }, undefined);
    assert.ok(r.valid);
    assert.equal(r.authUrl, "https://keystone.test:5000/v3");
  });

  const cases: [string, Parameters<typeof checkCloudSecret>, string][] = [
    ["missing Secret", [spec, undefined, undefined], "SecretNotFound"],
    ["missing key", [spec, { data: {} }, undefined], "SecretKeyMissing"],
    ["not YAML", [spec, { data: { "clouds.yaml": b64("clouds: [unclosed") } }, undefined], "InvalidCloudsYaml"],
    ["no clouds map", [spec, { data: { "clouds.yaml": b64("foo: 1") } }, undefined], "InvalidCloudsYaml"],
    ["other cloud", [{ ...spec, cloudName: "prod" }, { data: { "clouds.yaml": b64(good) } }, undefined], "CloudNotFound"],
    ["no auth_url", [spec, { data: { "clouds.yaml": b64("clouds:\n  lab:\n    region_name: R\n") } }, undefined], "AuthMissing"],
    ["CA Secret missing", [{ ...spec, caBundleSecretRef: { name: "ca" } }, { data: { "clouds.yaml": b64(good) } }, undefined], "CABundleInvalid"],
    ["CA not PEM", [{ ...spec, caBundleSecretRef: { name: "ca" } }, { data: { "clouds.yaml": b64(good) } }, { data: { "ca.crt": b64("nope") } }], "CABundleInvalid"],
    ["CA PEM garbage", [{ ...spec, caBundleSecretRef: { name: "ca" } }, { data: { "clouds.yaml": b64(good) } }, { data: { "ca.crt": b64("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n") } }], "CABundleInvalid"],
  ];
  for (const [name, args, reason] of cases) {
    it(`rejects: ${name} (${reason}), without a secret value in the message`, () => {
      const r = checkCloudSecret(...args);
      assert.equal(r.valid, false);
      assert.ok(!r.valid && r.reason === reason, JSON.stringify(r));
      assert.ok(!r.message.includes("s3cret-value") && !r.message.includes("pw@"));
    });
  }

  it("accepts the sample's CA bundle", async () => {
    const { readFileSync } = await import("node:fs");
    const { parseAllDocuments } = await import("yaml");
    const docs = parseAllDocuments(readFileSync(new URL("../../../../../config/samples/openstackcloud.yaml", import.meta.url), "utf8")).map((d) => d.toJS() as { metadata: { name: string }; stringData?: Record<string, string> });
    const ca = docs.find((d) => d.metadata.name === "openstack-ca")?.stringData?.["ca.crt"] ?? "";
    const r = checkCloudSecret({ ...spec, caBundleSecretRef: { name: "openstack-ca" } }, { data: { "clouds.yaml": b64(good) } }, { data: { "ca.crt": b64(ca) } });
    assert.ok(r.valid, JSON.stringify(r));
  });
});
