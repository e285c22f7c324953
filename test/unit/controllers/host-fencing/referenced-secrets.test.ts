import assert from "node:assert/strict";
import { referencedSecrets } from "../../../../src/controllers/host-fencing/secret-reader.js";

describe("referencedSecrets", () => {
  it("names every Secret a HostFencing reads, the hosts' own credentials included, once each", () => {
    const names = referencedSecrets({
      levels: [
        { devices: [{ redfish: { credentialsSecretRef: { name: "bmc" }, caBundleSecretRef: { name: "bmc-ca" } } }, { kdump: { keySecretRef: { name: "kdump" } } }] },
        { devices: [{ ipmi: { credentialsSecretRef: { name: "bmc" } } }, { fenceAgent: {} }] },
      ],
      hostOverrides: [{ credentialsSecretRef: { name: "bmc-compute-7" } }, {}],
    });
    assert.deepEqual(names, ["bmc", "bmc-ca", "bmc-compute-7", "kdump"]);
  });
});
