import assert from "node:assert/strict";
import type { HostFencing, HostFencingLevelDevice } from "../../../src/api/v1alpha1/index.js";
import { checkDeviceAddress } from "../../../src/fencing/device-address.js";
import { overrideFor, resolveHostDevices } from "../../../src/fencing/resolve-host-devices.js";

const SECRETS: Record<string, Record<string, string>> = {
  bmc: { username: "admin", password: "s3cret-pw" },
  "bmc-compute-1": { user: "root", pass: "other-pw" },
  kdump: { "kdump-key": "0123456789abcdef0123" },
};
const readSecret = (name: string): Promise<Record<string, string> | undefined> => Promise.resolve(SECRETS[name]);
const HOST = { name: "lab.compute-1", serviceHost: "compute-1.example.org" };

function hf(devices: HostFencingLevelDevice[], extra: Partial<HostFencing["spec"]> = {}): HostFencing {
  return { apiVersion: "ha.vmkeeper.dev/v1alpha1", kind: "HostFencing", metadata: { name: "rack-a", namespace: "ns" }, spec: { cloudRef: { name: "lab" }, hostSelector: { nameGlobs: ["lab.*"] }, levels: [{ name: "primary", devices }], ...extra } };
}

describe("resolveHostDevices", () => {
  it("substitutes {host} / {shortHost} and reads credentials from the Secret", async () => {
    const plan = await resolveHostDevices(hf([{ name: "bmc", kind: "IPMI", ipmi: { address: "{shortHost}-bmc.example.org", credentialsSecretRef: { name: "bmc" } } }]), HOST, readSecret);
    const d = plan.levels[0]?.devices[0];
    assert.deepEqual(d?.target, { kind: "IPMI", address: "compute-1-bmc.example.org", port: 623, interface: "Lanplus", privilegeLevel: "Administrator", credentials: { username: "admin", password: "s3cret-pw" } });
    assert.equal(d?.timeoutMs, 60_000);
    assert.equal(d?.retries, 2);
    assert.equal(plan.operationDeadlineMs, 300_000);
  });

  it("applies per-host overrides, the device-specific one winning field by field", () => {
    const list = [
      { host: "lab.compute-1", address: "10.0.0.1", port: 1623 },
      { host: "lab.compute-1", device: "bmc", address: "10.0.0.2" },
      { host: "lab.compute-2", address: "10.0.0.9" },
    ];
    assert.deepEqual(overrideFor(list, "lab.compute-1", "bmc"), { address: "10.0.0.2", port: 1623 });
    assert.deepEqual(overrideFor(list, "lab.compute-1", "pdu"), { address: "10.0.0.1", port: 1623 });
    assert.deepEqual(overrideFor(list, "lab.compute-3", "bmc"), {});
  });

  it("takes a host's own BMC credentials from its override, for every device kind", async () => {
    const own = { credentialsSecretRef: { name: "bmc-compute-1", usernameKey: "user", passwordKey: "pass" } };
    const devices: HostFencingLevelDevice[] = [
      { name: "ipmi", kind: "IPMI", ipmi: { address: "10.0.0.5", credentialsSecretRef: { name: "bmc" } } },
      { name: "redfish", kind: "Redfish", redfish: { address: "10.0.0.5", credentialsSecretRef: { name: "bmc" } } },
      { name: "agent", kind: "FenceAgent", fenceAgent: { agent: "fence_ipmilan", options: [{ name: "ip", value: "10.0.0.5" }], credentialsSecretRef: { name: "bmc" } } },
    ];
    const plan = await resolveHostDevices(hf(devices, { hostOverrides: [{ host: "lab.compute-1", ...own }, { host: "lab.compute-1", device: "agent", port: 1623 }] }), HOST, readSecret);
    for (const d of plan.levels[0]?.devices ?? []) {
      const t = d.target;
      assert.ok(t && "credentials" in t, d.name);
      assert.deepEqual(t.credentials, { username: "root", password: "other-pw" }, d.name);
    }
    const other = await resolveHostDevices(hf(devices, { hostOverrides: [{ host: "lab.compute-1", ...own }] }), { name: "lab.compute-2", serviceHost: "compute-2" }, readSecret);
    const t = other.levels[0]?.devices[0]?.target;
    assert.deepEqual(t && "credentials" in t ? t.credentials : undefined, { username: "admin", password: "s3cret-pw" }, "other hosts keep the device's Secret");
  });

  it("keeps a device with an unusable Secret as a configuration error, never leaking values", async () => {
    const plan = await resolveHostDevices(hf([{ name: "bmc", kind: "Redfish", redfish: { address: "10.0.0.5", credentialsSecretRef: { name: "missing" } } }, { name: "pw", kind: "IPMI", ipmi: { address: "10.0.0.6", credentialsSecretRef: { name: "bmc", passwordKey: "nope" } } }]), HOST, readSecret);
    assert.equal(plan.levels[0]?.devices[0]?.configError, 'Secret "missing" not found');
    assert.equal(plan.levels[0]?.devices[1]?.configError, 'Secret "bmc" has no key "nope"');
  });

  it("refuses addresses that point at the wrong place", async () => {
    const plan = await resolveHostDevices(hf([{ name: "bmc", kind: "IPMI", ipmi: { address: "169.254.169.254", credentialsSecretRef: { name: "bmc" } } }]), HOST, readSecret);
    assert.match(plan.levels[0]?.devices[0]?.configError ?? "", /link-local .* not a BMC/);
    for (const bad of ["169.254.1.1", "fe80::1", "fd00:ec2::254", "0.0.0.0", "224.0.0.1", "::", "::ffff:169.254.169.254", "metadata.google.internal", "bmc;reboot"]) {
      assert.ok(checkDeviceAddress(bad), `${bad} should be refused`);
    }
    for (const good of ["10.1.2.3", "127.0.0.1", "::1", "2001:db8::5", "bmc-compute-1.example.org"]) assert.equal(checkDeviceAddress(good), undefined, good);
  });

  it("refuses fence-agent options that carry credentials or shell metacharacters", async () => {
    const withPassword = await resolveHostDevices(hf([{ name: "agent", kind: "FenceAgent", fenceAgent: { agent: "fence_ipmilan", options: [{ name: "password", value: "x" }] } }]), HOST, readSecret);
    assert.match(withPassword.levels[0]?.devices[0]?.configError ?? "", /option "password" .* credentialsSecretRef/);
    const shell = await resolveHostDevices(hf([{ name: "agent", kind: "FenceAgent", fenceAgent: { agent: "fence_ipmilan", options: [{ name: "ip", value: "{host}" }, { name: "plug", value: "a$(id)" }] } }]), HOST, readSecret);
    assert.match(shell.levels[0]?.devices[0]?.configError ?? "", /shell metacharacter/);
    const ok = await resolveHostDevices(hf([{ name: "agent", kind: "FenceAgent", fenceAgent: { agent: "fence_ipmilan", options: [{ name: "ip", value: "{shortHost}-ipmi" }, { name: "lanplus" }], credentialsSecretRef: { name: "bmc" } } }], { hostOverrides: [{ host: "lab.compute-1", address: "10.0.0.7" }] }), HOST, readSecret);
    assert.deepEqual(ok.levels[0]?.devices[0]?.target, { kind: "FenceAgent", agent: "fence_ipmilan", options: [{ name: "ip", value: "10.0.0.7" }, { name: "lanplus" }], credentials: { username: "admin", password: "s3cret-pw" } });
  });

  it("resolves kdump keys and noop settings", async () => {
    const plan = await resolveHostDevices(hf([{ name: "kdump", kind: "Kdump", kdump: { keySecretRef: { name: "kdump" }, timeoutSeconds: 90 } }, { name: "test", kind: "Noop", noop: { result: "Fail" } }]), HOST, readSecret);
    assert.equal(plan.levels[0]?.devices[0]?.kdump?.waitMs, 90_000);
    assert.deepEqual(plan.levels[0]?.devices[1]?.noop, { result: "Fail", delayMs: 0 });
  });
});
