import type { IpmiTarget } from "../device-targets.js";
import { FenceDeviceError } from "../fence-device.js";

export type IpmiPowerCommand = "status" | "off" | "on";

const PRIVILEGE: Record<IpmiTarget["privilegeLevel"], string> = {
  Administrator: "ADMINISTRATOR",
  Operator: "OPERATOR",
  User: "USER",
};

/**
 * ipmitool's own per-message timeout (`-N`, seconds) and retries (`-R`) for a run that must end
 * within `commandTimeoutMs`. A BMC that never answers costs ipmitool about N × (R + 1) seconds
 * on lan and lanplus alike with R = 1, so N is a third of the budget: ipmitool reports the
 * silence itself (Unreachable) well before our own timer kills it (Timeout).
 */
export function ipmitoolTiming(commandTimeoutMs: number): { timeoutSeconds: number; retries: number } {
  const timeoutSeconds = Math.min(10, Math.max(1, Math.floor(commandTimeoutMs / 3000)));
  return { timeoutSeconds, retries: 1 };
}

/**
 * The argv for `ipmitool ... power <command>`. The password is NOT here: `-E` makes ipmitool
 * read it from IPMI_PASSWORD. `-v` makes ipmitool say why a session failed (RAKP errors versus
 * no answer), which its plain output does not tell apart. `-C` only with lanplus: IPMI 1.5
 * (`lan`) has no cipher suites.
 */
export function ipmitoolArgs(target: IpmiTarget, command: IpmiPowerCommand, commandTimeoutMs: number): string[] {
  checkIpmiTarget(target);
  const timing = ipmitoolTiming(commandTimeoutMs);
  const args = ["-I", target.interface === "Lanplus" ? "lanplus" : "lan", "-H", target.address, "-p", String(target.port)];
  if (target.credentials.username !== "") args.push("-U", target.credentials.username);
  args.push("-L", PRIVILEGE[target.privilegeLevel]);
  if (target.cipherSuite !== undefined && target.interface === "Lanplus") args.push("-C", String(target.cipherSuite));
  args.push("-N", String(timing.timeoutSeconds), "-R", String(timing.retries), "-v", "-E", "power", command);
  return args;
}

/** Refuses what ipmitool would misread; resolve-host-devices checks most of it already. */
export function checkIpmiTarget(target: IpmiTarget): void {
  const at = `IPMI device ${target.address}`;
  if (target.address === "" || /[\s\0]/.test(target.address) || target.address.startsWith("-")) {
    throw new FenceDeviceError("Config", `${at}: invalid address`);
  }
  if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) throw new FenceDeviceError("Config", `${at}: invalid port ${target.port}`);
  const c = target.cipherSuite;
  if (c !== undefined && (!Number.isInteger(c) || c < 0 || c > 255)) throw new FenceDeviceError("Config", `${at}: invalid cipher suite ${c}`);
  if (/[\r\n\0]/.test(target.credentials.username)) throw new FenceDeviceError("Config", `${at}: the username contains a line break or a NUL character`);
  if (target.credentials.password.includes("\0")) throw new FenceDeviceError("Config", `${at}: the password contains a NUL character`);
}

/** `ipmi lanplus 10.0.0.5:623` / `ipmi lan [fd00::5]:623`: for messages, no credentials. */
export function ipmiDescription(target: IpmiTarget): string {
  const host = target.address.includes(":") ? `[${target.address}]` : target.address;
  return `ipmi ${target.interface === "Lanplus" ? "lanplus" : "lan"} ${host}:${target.port}`;
}
