import type { HostFencing, HostFencingHostOverride, HostFencingLevelDevice } from "../api/v1alpha1/index.js";
import { checkDeviceAddress, substituteHost } from "./device-address.js";
import type { DeviceCredentials, PowerDeviceTarget } from "./device-targets.js";
import type { ResolvedDevice, ResolvedHostFencing } from "./resolved-levels.js";

/** Decoded Secret data by key, or undefined when the Secret does not exist. */
export type SecretReader = (name: string) => Promise<Record<string, string> | undefined>;

export interface HostIdentity {
  /** ComputeHost name (`<cloud>.<serviceHost>`). */
  name: string;
  serviceHost: string;
}

/**
 * Builds one host's fencing plan from a HostFencing: per-host overrides applied, `{host}`
 * substituted, addresses checked and Secrets read. A device whose settings are unusable keeps
 * its place with `configError`, so its level fails with that reason and the next level is
 * still tried. Secret values only ever land in the returned targets.
 */
export async function resolveHostDevices(hf: HostFencing, host: HostIdentity, readSecret: SecretReader): Promise<ResolvedHostFencing> {
  const cache = new Map<string, Promise<Record<string, string> | undefined>>();
  const secret = (name: string): Promise<Record<string, string> | undefined> => {
    let hit = cache.get(name);
    if (!hit) cache.set(name, (hit = readSecret(name)));
    return hit;
  };
  const levels = [];
  for (const level of hf.spec.levels) {
    const devices: ResolvedDevice[] = [];
    for (const d of level.devices) devices.push(await resolveDevice(level.name, d, overrideFor(hf.spec.hostOverrides, host.name, d.name), host, secret));
    levels.push({ name: level.name, devices });
  }
  return { hostFencing: hf.metadata?.name ?? "", host: host.name, serviceHost: host.serviceHost, levels, operationDeadlineMs: (hf.spec.operationDeadlineSeconds ?? 300) * 1000 };
}

/** The device-specific override wins over the host-wide one, field by field. */
export function overrideFor(list: readonly HostFencingHostOverride[] | undefined, host: string, device: string): Omit<HostFencingHostOverride, "host" | "device"> {
  const forHost = (list ?? []).filter((o) => o.host === host);
  const none: Partial<HostFencingHostOverride> = {};
  const general = forHost.find((o) => o.device === undefined) ?? none;
  const specific = forHost.find((o) => o.device === device) ?? none;
  const pick = <K extends "address" | "port" | "systemId" | "credentialsSecretRef">(k: K): Partial<HostFencingHostOverride>[K] => specific[k] ?? general[k];
  const out: Omit<HostFencingHostOverride, "host" | "device"> = {};
  const address = pick("address");
  const port = pick("port");
  const systemId = pick("systemId");
  const credentialsSecretRef = pick("credentialsSecretRef");
  if (address !== undefined) out.address = address;
  if (port !== undefined) out.port = port;
  if (systemId !== undefined) out.systemId = systemId;
  if (credentialsSecretRef !== undefined) out.credentialsSecretRef = credentialsSecretRef;
  return out;
}

type Override = ReturnType<typeof overrideFor>;

async function resolveDevice(level: string, d: HostFencingLevelDevice, o: Override, host: HostIdentity, secret: SecretReader): Promise<ResolvedDevice> {
  const base: ResolvedDevice = {
    level,
    name: d.name,
    kind: d.kind,
    timeoutMs: (d.timeoutSeconds ?? 60) * 1000,
    retries: d.retries ?? 2,
    retryIntervalMs: (d.retryIntervalSeconds ?? 5) * 1000,
  };
  try {
    if (d.kind === "Noop") return { ...base, noop: { result: d.noop?.result ?? "Succeed", delayMs: (d.noop?.delaySeconds ?? 0) * 1000 } };
    if (d.kind === "Kdump") {
      const ref = d.kdump?.keySecretRef;
      if (!ref) throw new ResolveError("kdump settings are missing");
      // One trailing newline (a key created from a file) is not part of the key; senders strip it too.
      const key = (await secretValue(secret, ref.name, ref.key ?? "kdump-key")).replace(/\n$/, "");
      if (key.length < 16) throw new ResolveError(`Secret "${ref.name}" key "${ref.key ?? "kdump-key"}" must hold at least 16 bytes`);
      return { ...base, kdump: { waitMs: (d.kdump?.timeoutSeconds ?? 60) * 1000, key: Buffer.from(key, "utf8") } };
    }
    return { ...base, target: await powerTarget(d, o, host, secret) };
  } catch (e: unknown) {
    if (e instanceof ResolveError) return { ...base, configError: e.message };
    throw e;
  }
}

async function powerTarget(d: HostFencingLevelDevice, o: Override, host: HostIdentity, secret: SecretReader): Promise<PowerDeviceTarget> {
  if (d.kind === "Redfish" && d.redfish) {
    const r = d.redfish;
    const systemId = o.systemId ?? (r.systemId !== undefined ? substituteHost(r.systemId, host) : undefined);
    return {
      kind: "Redfish",
      address: address(o.address ?? r.address, host),
      port: o.port ?? r.port ?? ((r.scheme ?? "HTTPS") === "HTTPS" ? 443 : 80),
      scheme: r.scheme ?? "HTTPS",
      ...(systemId !== undefined ? { systemId } : {}),
      authMethod: r.authMethod ?? "Session",
      credentials: await credentials(secret, o.credentialsSecretRef ?? r.credentialsSecretRef),
      ...(r.caBundleSecretRef ? { caBundle: await secretValue(secret, r.caBundleSecretRef.name, r.caBundleSecretRef.key ?? "ca.crt") } : {}),
      insecureSkipTLSVerify: r.insecureSkipTLSVerify ?? false,
    };
  }
  if (d.kind === "IPMI" && d.ipmi) {
    const i = d.ipmi;
    return {
      kind: "IPMI",
      address: address(o.address ?? i.address, host),
      port: o.port ?? i.port ?? 623,
      interface: i.interface ?? "Lanplus",
      privilegeLevel: i.privilegeLevel ?? "Administrator",
      ...(i.cipherSuite !== undefined ? { cipherSuite: i.cipherSuite } : {}),
      credentials: await credentials(secret, o.credentialsSecretRef ?? i.credentialsSecretRef),
    };
  }
  if (d.kind === "FenceAgent" && d.fenceAgent) return fenceAgentTarget(d.fenceAgent, o, host, secret);
  throw new ResolveError(`the ${d.kind} settings object is missing`);
}

const AGENT_RESERVED = new Set(["action", "o", "username", "login", "l", "password", "passwd", "p", "password_script", "S"]);
const UNSAFE_VALUE = /[;&|$`<>\\\r\n]/;

async function fenceAgentTarget(f: NonNullable<HostFencingLevelDevice["fenceAgent"]>, o: Override, host: HostIdentity, secret: SecretReader): Promise<PowerDeviceTarget> {
  if (!/^fence_[a-z0-9_]+$/.test(f.agent)) throw new ResolveError(`agent "${f.agent}" is not a fence agent name (fence_*)`);
  const options = (f.options ?? []).map((opt) => {
    if (AGENT_RESERVED.has(opt.name)) throw new ResolveError(`option "${opt.name}" is set by vmkeeper (action) or comes from credentialsSecretRef (user names, passwords); remove it from options`);
    if (opt.value === undefined) return { name: opt.name };
    const value = substituteHost(opt.value, host);
    if (UNSAFE_VALUE.test(value)) throw new ResolveError(`option "${opt.name}" contains a shell metacharacter or line break`);
    return { name: opt.name, value: overridden(opt.name, value, o) };
  });
  for (const name of ["ip", "ipaddr"]) {
    const opt = options.find((x) => x.name === name);
    if (opt?.value !== undefined) {
      const why = checkDeviceAddress(opt.value);
      if (why) throw new ResolveError(`option "${name}": ${why}`);
    }
  }
  const creds = o.credentialsSecretRef ?? f.credentialsSecretRef;
  return { kind: "FenceAgent", agent: f.agent, options, ...(creds ? { credentials: await credentials(secret, creds) } : {}) };
}

/** Host overrides apply to the agent options that carry the same facts. */
function overridden(name: string, value: string, o: Override): string {
  if ((name === "ip" || name === "ipaddr") && o.address !== undefined) return o.address;
  if ((name === "ipport" || name === "u") && o.port !== undefined) return String(o.port);
  if ((name === "plug" || name === "n") && o.systemId !== undefined) return o.systemId;
  return value;
}

function address(template: string, host: HostIdentity): string {
  const value = substituteHost(template, host);
  const why = checkDeviceAddress(value);
  if (why) throw new ResolveError(`address: ${why}`);
  return value.startsWith("[") && value.endsWith("]") ? value.slice(1, -1) : value;
}

async function credentials(secret: SecretReader, ref: { name: string; usernameKey?: string; passwordKey?: string }): Promise<DeviceCredentials> {
  return { username: await secretValue(secret, ref.name, ref.usernameKey ?? "username"), password: await secretValue(secret, ref.name, ref.passwordKey ?? "password") };
}

async function secretValue(secret: SecretReader, name: string, key: string): Promise<string> {
  const data = await secret(name);
  if (!data) throw new ResolveError(`Secret "${name}" not found`);
  const value = data[key];
  if (value === undefined || value === "") throw new ResolveError(`Secret "${name}" has no key "${key}"`);
  return value;
}

class ResolveError extends Error {}
