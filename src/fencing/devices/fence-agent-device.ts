import { delimiter, join } from "node:path";
import type { FenceAgentTarget } from "../device-targets.js";
import { FenceDeviceError, type FenceDevice, type PowerState } from "../fence-device.js";
import { checkFenceAgentTarget, renderFenceAgentInput, type FenceAgentAction } from "./fence-agent-input.js";
import { runDeviceProcess, type DeviceProcessResult } from "./fence-agent-process.js";
import { agentStatusFromExit, agentSucceeded, classifyAgentFailure } from "./fence-agent-result.js";
import { scrubSecret } from "./fence-agent-scrub.js";

/**
 * One agent run. fence-agents wait for the new state themselves after on/off (power_timeout,
 * 20 s by default, plus login), so this is longer than an ipmitool run.
 */
export const DEFAULT_FENCE_AGENT_TIMEOUT_MS = 60_000;

/** Where Debian, Ubuntu and RHEL install fence agents, searched after PATH. */
const AGENT_SYSTEM_DIRS = ["/usr/sbin", "/sbin"];
/** Options that say which device an agent talks to, shown in the description. */
const DESCRIBING_OPTIONS = new Set(["ip", "ipaddr", "ipport", "plug", "port"]);

export interface FenceAgentDeviceOptions {
  /** Folder holding the agents; default: PATH, then /usr/sbin and /sbin. */
  agentDir?: string;
  commandTimeoutMs?: number;
}

/**
 * Power fencing through a ClusterLabs fence agent (`fence_ipmilan`, `fence_redfish`, ...), run
 * without arguments and without a shell: everything, the password included, goes to its
 * standard input as `name=value` lines, so nothing secret shows in its argv. What the agent
 * prints is scrubbed of the password before it reaches a message.
 */
export function createFenceAgentDevice(target: FenceAgentTarget, opts: FenceAgentDeviceOptions = {}): FenceDevice {
  checkFenceAgentTarget(target);
  return new FenceAgentDevice(target, opts.agentDir, opts.commandTimeoutMs ?? DEFAULT_FENCE_AGENT_TIMEOUT_MS);
}

class FenceAgentDevice implements FenceDevice {
  readonly description: string;
  private readonly file: string;
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    private readonly target: FenceAgentTarget,
    private readonly agentDir: string | undefined,
    private readonly timeoutMs: number,
  ) {
    const shown = target.options.filter((o) => DESCRIBING_OPTIONS.has(o.name) && o.value !== undefined).map((o) => `${o.name}=${o.value}`);
    this.description = [`fence-agent ${target.agent}`, ...shown].join(" ");
    this.file = agentDir !== undefined ? join(agentDir, target.agent) : target.agent;
    this.env = { ...process.env, PATH: searchPath(process.env.PATH), LC_ALL: "C", LANG: "C", PYTHONWARNINGS: "ignore::DeprecationWarning" };
  }

  async powerState(signal: AbortSignal): Promise<PowerState> {
    const result = await this.run("status", signal);
    const state = agentStatusFromExit(result.code);
    if (state === undefined) throw this.failure("status", result);
    return state;
  }

  async setPower(target: "Off" | "On", signal: AbortSignal): Promise<void> {
    const action = target === "Off" ? "off" : "on";
    const result = await this.run(action, signal);
    if (!agentSucceeded(action, result.code)) throw this.failure(action, result);
  }

  private async run(action: FenceAgentAction, signal: AbortSignal): Promise<Extract<DeviceProcessResult, { kind: "exited" }>> {
    const result = await runDeviceProcess({ file: this.file, args: [], env: this.env, input: renderFenceAgentInput(this.target, action), timeoutMs: this.timeoutMs, signal });
    switch (result.kind) {
      case "aborted":
        throw this.error("Aborted", `${action} aborted`);
      case "timeout":
        throw this.error("Timeout", `${action} did not finish within ${Math.round(this.timeoutMs / 1000)} s (killed)`);
      case "spawn-failed":
        throw this.spawnError(result.code);
      case "exited":
        return result;
    }
  }

  private failure(action: FenceAgentAction, result: Extract<DeviceProcessResult, { kind: "exited" }>): FenceDeviceError {
    const { reason, detail } = classifyAgentFailure(result.stderr, result.stdout, this.target.credentials?.password);
    const exit = result.code !== null ? `exit ${result.code}` : `signal ${result.signal ?? "?"}`;
    const said = detail ? `: ${detail}` : "";
    if (reason === "AuthFailed" && this.target.credentials) {
      const user = JSON.stringify(this.target.credentials.username.slice(0, 64));
      return this.error(reason, `${action} failed (${exit}), the device refused user ${user}${said}; check the username and password`);
    }
    return this.error(reason, `${action} failed (${exit})${said}`);
  }

  private spawnError(code: string): FenceDeviceError {
    const where = this.agentDir !== undefined ? `in ${this.agentDir}` : `on PATH or in ${AGENT_SYSTEM_DIRS.join(", ")}`;
    if (code === "ENOENT") {
      return this.error("Config", `${this.target.agent} not found ${where}; install the fence agents (Debian/Ubuntu: apt-get install fence-agents; RHEL: the fence-agents-* package)`);
    }
    if (code === "EACCES") return this.error("Config", `${this.target.agent} ${where} is not executable`);
    return this.error("Config", `cannot start ${this.target.agent} (${code})`);
  }

  private error(reason: FenceDeviceError["reason"], message: string): FenceDeviceError {
    return new FenceDeviceError(reason, scrubSecret(`${this.description}: ${message}`, this.target.credentials?.password));
  }
}

/** PATH with the system agent folders appended when missing (a non-root PATH often lacks sbin). */
function searchPath(path: string | undefined): string {
  const parts = (path ?? "/usr/local/bin:/usr/bin:/bin").split(delimiter).filter((p) => p !== "");
  for (const dir of AGENT_SYSTEM_DIRS) if (!parts.includes(dir)) parts.push(dir);
  return parts.join(delimiter);
}
