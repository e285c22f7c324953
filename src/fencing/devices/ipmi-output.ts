import type { FenceDeviceErrorReason, PowerState } from "../fence-device.js";
import { conciseOutput } from "./fence-agent-scrub.js";

/** `Chassis Power is on|off` from `ipmitool power status`; undefined for anything else. */
export function parseIpmiPowerStatus(stdout: string): PowerState | undefined {
  const m = /Chassis Power is\s+(on|off)\b/i.exec(stdout);
  if (!m?.[1]) return undefined;
  return m[1].toLowerCase() === "on" ? "On" : "Off";
}

/** Whether `ipmitool power off|on` printed its acknowledgement (`Chassis Power Control: Down/Off`). */
export function isIpmiPowerAck(stdout: string, target: "Off" | "On"): boolean {
  const word = target === "Off" ? "Down/Off" : "Up/On";
  return stdout.toLowerCase().includes(`chassis power control: ${word.toLowerCase()}`);
}

/**
 * Lines ipmitool prints on success as well, or that say nothing about the failure:
 * `-v` banners, and the cipher-suite probe many BMCs (and ipmi_sim) do not answer.
 */
const NOISE: readonly RegExp[] = [/^Loading IANA PEN Registry/i, /^Unable to Get Channel Cipher Suites$/i, /^Running Get PICMG Properties/i, /^Discovered IPMB/i];

/** The BMC answered and refused the user, the password or the privilege level. */
const AUTH_PATTERNS: readonly RegExp[] = [
  /RAKP \d+ HMAC is invalid/i,
  /RAKP \d+ message indicates an error/i,
  /unauthorized name/i,
  /invalid user ?name/i,
  /invalid (password|integrity check value)/i,
  /password (is )?(invalid|incorrect|wrong)/i,
  /Activate Session (command failed|error)/i,
  /insufficient privilege/i,
  /(requested )?privilege level (is )?(not available|exceeds)/i,
  /Set Session Privilege Level to \S+ failed/i,
  /Unauthorized/,
  /unauthorized role or privilege/i,
];

/** The BMC answered but supports nothing we asked for: fix the settings, retrying will not help. */
const CONFIG_PATTERNS: readonly RegExp[] = [/invalid (authentication|integrity|confidentiality) algorithm/i, /no matching cipher suite/i, /cipher suite .*not supported/i];

/** Nothing answered, or the name did not resolve. */
const UNREACHABLE_PATTERNS: readonly RegExp[] = [
  /Get (Channel )?Auth(entication)? Capabilities (error|command failed|request)/i,
  /Error issuing Get Channel Authentication Capabilities/i,
  /No response from remote controller/i,
  /Address lookup for .* failed/i,
  /(Name or service not known|could not resolve|unable to resolve)/i,
  /(Connection refused|Network is unreachable|No route to host|Host is unreachable)/i,
  /Unable to establish (IPMI v2 \/ RMCP\+|IPMI v1\.5 \/ RMCP|LAN) session/i,
];

export interface IpmiFailure {
  reason: FenceDeviceErrorReason;
  /** ipmitool's own words, scrubbed and cut; may be empty. */
  detail: string;
}

/**
 * Why a failed ipmitool run failed, from its standard error. Authentication is checked first:
 * ipmitool ends both a refused login and a silent BMC with `Unable to establish ... session`,
 * and only the `-v` lines before it (RAKP errors, Activate Session) tell them apart.
 */
export function classifyIpmitoolFailure(stderr: string, stdout: string, password: string): IpmiFailure {
  const text = `${stderr}\n${stdout}`;
  const detail = conciseOutput(text, password, { noise: NOISE, maxChars: 240 });
  if (AUTH_PATTERNS.some((re) => re.test(text))) return { reason: "AuthFailed", detail };
  if (CONFIG_PATTERNS.some((re) => re.test(text))) return { reason: "Config", detail };
  if (UNREACHABLE_PATTERNS.some((re) => re.test(text))) return { reason: "Unreachable", detail };
  return { reason: "Protocol", detail };
}
