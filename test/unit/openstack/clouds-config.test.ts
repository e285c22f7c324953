import assert from "node:assert/strict";
import { inspect } from "node:util";
import { CloudConfigError } from "../../../src/openstack/cloud-config-error.js";
import { configSearchPaths, loadCloudConfigFromFiles, type ConfigFileReader } from "../../../src/openstack/clouds-config-files.js";
import { applyCloudOverrides, parseCloudsYaml } from "../../../src/openstack/clouds-config.js";

const SECRET = "s3cr3t-Pa55";

const PASSWORD_CLOUD = `
clouds:
  prod:
    auth:
      auth_url: https://keystone.example:5000
      username: vmkeeper
      password: ${SECRET}
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: internal
    api_timeout: 12.5
  lab:
    auth:
      auth_url: http://127.0.0.1:5000/v3/
      application_credential_id: ac-1
      application_credential_secret: ${SECRET}
    auth_type: v3applicationcredential
`;

function memoryReader(files: Record<string, string>): ConfigFileReader & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    readTextIfExists(path: string): Promise<string | undefined> {
      reads.push(path);
      return Promise.resolve(files[path]);
    },
  };
}

function expectConfigError(fn: () => unknown, reason: string, key?: string): CloudConfigError {
  try {
    fn();
  } catch (e: unknown) {
    assert.ok(e instanceof CloudConfigError, String(e));
    assert.equal(e.reason, reason, e.message);
    if (key !== undefined) assert.equal(e.key, key);
    assert.ok(!e.message.includes(SECRET), `secret in message: ${e.message}`);
    return e;
  }
  assert.fail("expected a CloudConfigError");
}

describe("clouds.yaml parsing", () => {
  it("reads a password cloud with region, interface, timeout and a /v3 auth URL", () => {
    const c = parseCloudsYaml(PASSWORD_CLOUD, { cloudName: "prod", env: {} });
    assert.equal(c.authUrl, "https://keystone.example:5000/v3");
    assert.equal(c.authType, "password");
    assert.equal(c.auth.username, "vmkeeper");
    assert.equal(c.auth.password?.reveal(), SECRET);
    assert.equal(c.auth.projectDomainName, "Default");
    assert.equal(c.regionName, "RegionOne");
    assert.equal(c.interface, "internal");
    assert.equal(c.apiTimeoutMs, 12_500);
    assert.equal(c.verify, true);
  });

  it("never shows a secret when the config is serialised or inspected", () => {
    const c = parseCloudsYaml(PASSWORD_CLOUD, { cloudName: "prod", env: {} });
    assert.ok(!JSON.stringify(c).includes(SECRET));
    assert.ok(!inspect(c, { depth: 10 }).includes(SECRET));
    assert.ok(!`${String(c.auth.password)}`.includes(SECRET));
  });

  it("reads an application credential cloud and normalises the auth URL", () => {
    const c = parseCloudsYaml(PASSWORD_CLOUD, { cloudName: "lab", env: {} });
    assert.equal(c.authType, "v3applicationcredential");
    assert.equal(c.authUrl, "http://127.0.0.1:5000/v3");
    assert.equal(c.auth.applicationCredentialId, "ac-1");
    assert.equal(c.interface, "public");
  });

  it("selects the cloud from OS_CLOUD when no name is given", () => {
    assert.equal(parseCloudsYaml(PASSWORD_CLOUD, { env: { OS_CLOUD: "lab" } }).cloudName, "lab");
    assert.equal(parseCloudsYaml(PASSWORD_CLOUD, { cloudName: "prod", env: { OS_CLOUD: "lab" } }).cloudName, "prod");
  });

  it("names the clouds it has when the cloud is missing, and asks for a name when none is given", () => {
    const e = expectConfigError(() => parseCloudsYaml(PASSWORD_CLOUD, { cloudName: "nope", env: {} }), "CloudNotFound");
    assert.match(e.message, /prod, lab/);
    expectConfigError(() => parseCloudsYaml(PASSWORD_CLOUD, { env: {} }), "NoCloudName");
  });

  it("deep-merges secure.yaml over clouds.yaml", () => {
    const clouds = "clouds:\n  prod:\n    auth:\n      auth_url: https://k:5000\n      username: u\n      user_domain_id: default\n      project_id: p1\n    region_name: R1\n";
    const secure = `clouds:\n  prod:\n    auth:\n      password: ${SECRET}\n    region_name: R2\n`;
    const c = parseCloudsYaml(clouds, { cloudName: "prod", secureYaml: secure, env: {} });
    assert.equal(c.auth.password?.reveal(), SECRET);
    assert.equal(c.auth.username, "u");
    assert.equal(c.regionName, "R2");
  });

  it("names the missing key, never a value", () => {
    const base = (auth: string, extra = ""): string => `clouds:\n  c:\n${extra}    auth:\n      auth_url: https://k:5000\n${auth}`;
    expectConfigError(() => parseCloudsYaml("clouds:\n  c:\n    auth:\n      username: u\n", { cloudName: "c", env: {} }), "MissingKey", "clouds.c.auth.auth_url");
    expectConfigError(() => parseCloudsYaml(base("      username: u\n      user_domain_name: D\n      project_id: p\n"), { cloudName: "c", env: {} }), "MissingKey", "clouds.c.auth.password");
    expectConfigError(() => parseCloudsYaml(base(`      username: u\n      password: ${SECRET}\n      project_id: p\n`), { cloudName: "c", env: {} }), "MissingKey", "clouds.c.auth.user_domain_name");
    expectConfigError(() => parseCloudsYaml(base(`      user_id: u\n      password: ${SECRET}\n`), { cloudName: "c", env: {} }), "MissingKey", "clouds.c.auth.project_name");
    expectConfigError(() => parseCloudsYaml(base("      application_credential_id: a\n", "    auth_type: v3applicationcredential\n"), { cloudName: "c", env: {} }), "MissingKey", "clouds.c.auth.application_credential_secret");
    expectConfigError(() => parseCloudsYaml(base("      project_id: p\n", "    auth_type: v3token\n"), { cloudName: "c", env: {} }), "MissingKey", "clouds.c.auth.token");
    expectConfigError(() => parseCloudsYaml(base(`      token: ${SECRET}\n      project_id: p\n`, "    auth_type: saml2\n"), { cloudName: "c", env: {} }), "Unsupported", "clouds.c.auth_type");
  });

  it("uses domain_name as the user and project domain, as openstacksdk does", () => {
    const text = `clouds:\n  c:\n    auth:\n      auth_url: https://k:5000\n      username: u\n      password: ${SECRET}\n      project_name: p\n      domain_name: Corp\n`;
    const c = parseCloudsYaml(text, { cloudName: "c", env: {} });
    assert.equal(c.auth.userDomainName, "Corp");
    assert.equal(c.auth.projectDomainName, "Corp");
    assert.equal(c.auth.domainName, undefined);
  });

  it("infers the auth type, takes verify: false, inline PEM and legacy interface names", () => {
    const pem = "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n";
    const text = `clouds:\n  c:\n    verify: false\n    cacert: "${pem}"\n    interface: internalURL\n    auth:\n      auth_url: https://k:5000\n      token: ${SECRET}\n      project_id: p\n`;
    const c = parseCloudsYaml(text, { cloudName: "c", env: {} });
    assert.equal(c.authType, "token");
    assert.equal(c.verify, false);
    assert.ok(c.caCertPem?.includes("BEGIN CERTIFICATE"));
    assert.equal(c.interface, "internal");
  });

  it("rejects invalid YAML and auth URLs with credentials in them", () => {
    expectConfigError(() => parseCloudsYaml("clouds: [unclosed", { cloudName: "c", env: {} }), "InvalidYaml");
    expectConfigError(() => parseCloudsYaml(`clouds:\n  c:\n    auth:\n      auth_url: https://u:${SECRET}@k:5000\n`, { cloudName: "c", env: {} }), "InvalidValue", "clouds.c.auth.auth_url");
  });
});

describe("OpenStackCloud overrides", () => {
  it("lays region, interface, CA, TLS and timeout over the clouds.yaml entry without changing it", () => {
    const base = parseCloudsYaml(PASSWORD_CLOUD, { cloudName: "prod", env: {} });
    const c = applyCloudOverrides(base, { region: "R9", interface: "Admin", caPem: "PEM", insecureSkipTLSVerify: true, requestTimeoutMs: 5000 });
    assert.deepEqual([c.regionName, c.interface, c.caCertPem, c.verify, c.apiTimeoutMs], ["R9", "admin", "PEM", false, 5000]);
    assert.equal(base.regionName, "RegionOne");
    assert.equal(c.auth.password?.reveal(), SECRET);
  });
});

describe("clouds.yaml file search", () => {
  const ctx = { cwd: "/work", home: "/home/op" };
  const cloud = (region: string): string => `clouds:\n  c:\n    region_name: ${region}\n    auth:\n      auth_url: https://k:5000\n      application_credential_id: a\n      application_credential_secret: x\n`;

  it("searches OS_CLIENT_CONFIG_FILE, then ./, ~/.config/openstack, /etc/openstack", () => {
    const paths = configSearchPaths("clouds", { ...ctx, env: { OS_CLIENT_CONFIG_FILE: "/cfg/my.yaml" } });
    assert.deepEqual(paths.filter((p) => p.endsWith(".yaml")), ["/cfg/my.yaml", "/work/clouds.yaml", "/home/op/.config/openstack/clouds.yaml", "/etc/openstack/clouds.yaml"]);
    assert.ok(paths.includes("/work/clouds.yml") && paths.includes("/etc/openstack/clouds.json"));
  });

  it("takes the first file found", async () => {
    const reader = memoryReader({ "/home/op/.config/openstack/clouds.yaml": cloud("Home"), "/etc/openstack/clouds.yaml": cloud("Etc") });
    const r = await loadCloudConfigFromFiles({ ...ctx, env: {}, cloudName: "c", reader });
    assert.equal(r.config.regionName, "Home");
    assert.equal(r.cloudsFile, "/home/op/.config/openstack/clouds.yaml");
    const r2 = await loadCloudConfigFromFiles({ ...ctx, env: { OS_CLIENT_CONFIG_FILE: "/x/c.yaml", OS_CLOUD: "c" }, reader: memoryReader({ "/x/c.yaml": cloud("Env"), "/work/clouds.yaml": cloud("Cwd") }) });
    assert.equal(r2.config.regionName, "Env");
  });

  it("merges the first secure.yaml found, from its own search order", async () => {
    const reader = memoryReader({
      "/etc/openstack/clouds.yaml": cloud("Etc"),
      "/home/op/.config/openstack/secure.yaml": "clouds:\n  c:\n    region_name: FromSecure\n",
      "/etc/openstack/secure.yaml": "clouds:\n  c:\n    region_name: Ignored\n",
    });
    const r = await loadCloudConfigFromFiles({ ...ctx, env: { OS_CLOUD: "c" }, reader });
    assert.equal(r.config.regionName, "FromSecure");
    assert.equal(r.secureFile, "/home/op/.config/openstack/secure.yaml");
  });

  it("reads the cacert file into PEM, and fails clearly without any clouds.yaml", async () => {
    const withCa = cloud("R").replace("    auth:", "    cacert: ca.pem\n    auth:");
    const r = await loadCloudConfigFromFiles({ ...ctx, env: { OS_CLOUD: "c" }, reader: memoryReader({ "/work/clouds.yaml": withCa, "/work/ca.pem": "PEM" }) });
    assert.equal(r.config.caCertPem, "PEM");
    await assert.rejects(loadCloudConfigFromFiles({ ...ctx, env: {}, reader: memoryReader({}) }), (e: unknown) => e instanceof CloudConfigError && e.reason === "NoConfigFile");
  });
});
