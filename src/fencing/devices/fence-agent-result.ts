import type { FenceDeviceErrorReason, PowerState } from "../fence-device.js";
import type { FenceAgentAction } from "./fence-agent-input.js";
import { conciseOutput } from "./fence-agent-scrub.js";

/**
 * Exit codes of the fence agent API (fence-agents 4.x fencing.py): `status` exits 0 when the
 * target is on, 2 when it is off, 1 on any failure; `on` / `off` exit 0 once the agent has
 * seen the new state and 1 otherwise.
 */
export const AGENT_EXIT_OK = 0;
export const AGENT_EXIT_STATUS_OFF = 2;

/** Python warnings and tracebacks' frames say nothing about the device. */
const NOISE: readonly RegExp[] = [/DeprecationWarning/, /^from \S+ import /, /^import /, /^Please use '-h' for usage$/];

/**
 * fencing.py's failure messages (`fail(EC_...)`) and common network words, in order: the
 * first match decides. "Unable to connect/login" is fence-agents' EC_LOGIN_DENIED, which the
 * agents raise when the login dialogue fails; it is taken as a refused login. "Parse error:
 * Ignoring unknown option" is only a warning: the agent goes on.
 */
const RULES: readonly { re: RegExp; reason: FenceDeviceErrorReason }[] = [
  { re: /Timed out waiting to power OFF/i, reason: "PowerStillOn" },
  { re: /Timed out waiting to power ON/i, reason: "Protocol" },
  { re: /You have to set login password|Parse error: (?!Ignoring)|Failed: .*(required|missing)|Unable to run |is not executable|No such file or directory/i, reason: "Config" },
  { re: /does not have the correct privileges|Unable to connect\/login|login denied|Unauthorized|authentication failed|invalid (user ?name|password|credentials)/i, reason: "AuthFailed" },
  { re: /RAKP \d+ (HMAC is invalid|message indicates an error)/i, reason: "AuthFailed" },
  { re: /Connection (timed out|lost|refused|reset)|timed out|No route to host|Network is unreachable|Name or service not known|Unable to establish/i, reason: "Unreachable" },
];

export interface AgentFailure {
  reason: FenceDeviceErrorReason;
  detail: string;
}

/**
 * Why an agent run failed, from its output; `Protocol` when nothing says more. The detail is
 * the agent's ERROR lines, led by the line that decided the reason when that is another one
 * (with `verbose_level=2`, fence_ipmilan logs ipmitool's `RAKP 2 HMAC is invalid` at DEBUG).
 */
export function classifyAgentFailure(stderr: string, stdout: string, password: string | undefined): AgentFailure {
  const text = `${stderr}\n${stdout}`;
  const lines = text.split(/\r?\n/);
  const errorLines = lines.filter((l) => /\b(ERROR|CRITICAL)\b/.test(l));
  const rule = RULES.find((r) => r.re.test(text));
  const deciding = rule ? lines.find((l) => rule.re.test(l)) : undefined;
  const shown = errorLines.length > 0 ? [...(deciding !== undefined && !errorLines.includes(deciding) ? [deciding] : []), ...errorLines] : lines;
  const detail = conciseOutput(shown.join("\n"), password, { noise: NOISE, maxChars: 240 });
  return { reason: rule?.reason ?? "Protocol", detail };
}

/** `status`'s answer from its exit code; undefined for a failure. */
export function agentStatusFromExit(code: number | null): PowerState | undefined {
  if (code === AGENT_EXIT_OK) return "On";
  if (code === AGENT_EXIT_STATUS_OFF) return "Off";
  return undefined;
}

/** Whether an exit code means success for `action` (status's 2 is a success: "off"). */
export function agentSucceeded(action: FenceAgentAction, code: number | null): boolean {
  return action === "status" ? agentStatusFromExit(code) !== undefined : code === AGENT_EXIT_OK;
}
