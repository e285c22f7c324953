import type { FenceAgentTarget } from "../device-targets.js";
import { FenceDeviceError } from "../fence-device.js";

export type FenceAgentAction = "status" | "off" | "on";

/** Same rule as the CRD: the agent is a `fence_*` executable name, never a path. */
export const FENCE_AGENT_NAME = /^fence_[a-z0-9_]+$/;
const OPTION_NAME = /^[a-z][a-z0-9_-]*$/;
/** Shell metacharacters and line breaks, as the CRD refuses them in option values (plus NUL). */
const FORBIDDEN_VALUE_CHARS = /[;&|$`<>\\\r\n\0]/;

/**
 * Option names the spec may never set: the action is ours, passwords come from the Secret
 * (`password` / `passwd` are the names fence-agents 4.x reads on stdin, the `*_script` forms
 * would run a program to fetch one), and `option` is the action's old name.
 */
const RESERVED_OPTIONS = new Set(["action", "option", "password", "passwd", "password_script", "passwd_script"]);
/** Set from the Secret when it has credentials; then the spec must not set them too. */
const CREDENTIAL_USER_OPTIONS = new Set(["username", "login"]);

/** fence-agents match names with `-` and `_` alike; so do we. */
function canonicalName(name: string): string {
  return name.replace(/-/g, "_");
}

/**
 * Checks the agent name, the options and the credentials; throws a `Config` FenceDeviceError
 * naming the offending option (never a value: a misplaced password must not be echoed).
 */
export function checkFenceAgentTarget(target: FenceAgentTarget): void {
  if (!FENCE_AGENT_NAME.test(target.agent)) throw new FenceDeviceError("Config", `fence agent ${JSON.stringify(target.agent)}: the name must match ^fence_[a-z0-9_]+$`);
  const at = `fence agent ${target.agent}`;
  for (const opt of target.options) {
    if (!OPTION_NAME.test(opt.name)) throw new FenceDeviceError("Config", `${at}: invalid option name ${JSON.stringify(opt.name.slice(0, 64))}`);
    const name = canonicalName(opt.name);
    if (RESERVED_OPTIONS.has(name)) throw new FenceDeviceError("Config", `${at}: option ${opt.name} may not be set in the spec; the action is chosen by vmkeeper and passwords come from the credentials Secret`);
    if (target.credentials && CREDENTIAL_USER_OPTIONS.has(name)) throw new FenceDeviceError("Config", `${at}: option ${opt.name} conflicts with the credentials Secret, which sets the username`);
    if (opt.value !== undefined && FORBIDDEN_VALUE_CHARS.test(opt.value)) throw new FenceDeviceError("Config", `${at}: the value of option ${opt.name} contains a line break or a shell metacharacter (; & | $ \` < > \\)`);
  }
  const creds = target.credentials;
  if (creds && /[\r\n\0]/.test(creds.username)) throw new FenceDeviceError("Config", `${at}: the username contains a line break or a NUL character, which agents cannot read`);
  if (creds && /[\r\n\0]/.test(creds.password)) throw new FenceDeviceError("Config", `${at}: the password contains a line break or a NUL character, which agents cannot read`);
}

/**
 * A value as fence-agents' stdin parser gives it back: it strips each line and then one pair
 * of surrounding double quotes, so values with edge blanks or that are themselves quoted are
 * wrapped in quotes; every other value is written as it is (agents outside fencing.py, like
 * fence_virt, do not unquote).
 */
export function stdinValue(value: string): string {
  const quoted = value.length >= 2 && value.startsWith('"') && value.endsWith('"');
  return value !== value.trim() || quoted ? `"${value}"` : value;
}

/**
 * The agent's standard input (`name=value` lines, the ClusterLabs fence agent API): the action,
 * the spec's options (an option without a value is a flag and is written `name=1`, which
 * fence-agents 4.x reads as set while it ignores a bare name), then `username` and `password`
 * from the Secret. Checks the target first.
 */
export function renderFenceAgentInput(target: FenceAgentTarget, action: FenceAgentAction): string {
  checkFenceAgentTarget(target);
  const lines = [`action=${action}`];
  for (const opt of target.options) lines.push(`${opt.name}=${opt.value === undefined ? "1" : stdinValue(opt.value)}`);
  if (target.credentials) {
    if (target.credentials.username !== "") lines.push(`username=${stdinValue(target.credentials.username)}`);
    lines.push(`password=${stdinValue(target.credentials.password)}`);
  }
  return `${lines.join("\n")}\n`;
}
