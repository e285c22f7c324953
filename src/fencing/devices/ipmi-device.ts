import type { IpmiTarget } from "../device-targets.js";
import { FenceDeviceError, type FenceDevice, type PowerState } from "../fence-device.js";
import { runDeviceProcess, type DeviceProcessResult } from "./fence-agent-process.js";
import { conciseOutput, scrubSecret } from "./fence-agent-scrub.js";
import { checkIpmiTarget, ipmiDescription, ipmitoolArgs, type IpmiPowerCommand } from "./ipmi-args.js";
import { classifyIpmitoolFailure, isIpmiPowerAck, parseIpmiPowerStatus } from "./ipmi-output.js";

/** One ipmitool run, session set-up to answer, unless the caller sets another. */
export const DEFAULT_IPMI_COMMAND_TIMEOUT_MS = 20_000;

export interface IpmiDeviceOptions {
  /** ipmitool binary: a path, or a name looked up on PATH (default `ipmitool`). */
  ipmitoolPath?: string;
  commandTimeoutMs?: number;
}

/**
 * Power fencing over IPMI-over-LAN through `ipmitool ... power status|off|on`, run without a
 * shell. The password reaches ipmitool only through its environment (`-E`, IPMI_PASSWORD),
 * never argv, which any local user could read in /proc. Every error is a FenceDeviceError
 * that names the BMC and the user, never the password.
 */
export function createIpmiDevice(target: IpmiTarget, opts: IpmiDeviceOptions = {}): FenceDevice {
  checkIpmiTarget(target);
  return new IpmiFenceDevice(target, opts.ipmitoolPath ?? "ipmitool", opts.commandTimeoutMs ?? DEFAULT_IPMI_COMMAND_TIMEOUT_MS);
}

class IpmiFenceDevice implements FenceDevice {
  readonly description: string;

  constructor(
    private readonly target: IpmiTarget,
    private readonly ipmitool: string,
    private readonly timeoutMs: number,
  ) {
    this.description = ipmiDescription(target);
  }

  async powerState(signal: AbortSignal): Promise<PowerState> {
    const stdout = await this.run("status", signal);
    const state = parseIpmiPowerStatus(stdout);
    if (state === undefined) throw this.error("Protocol", `unexpected answer to power status: ${this.concise(stdout) || "(nothing)"}`);
    return state;
  }

  async setPower(target: "Off" | "On", signal: AbortSignal): Promise<void> {
    const stdout = await this.run(target === "Off" ? "off" : "on", signal);
    if (!isIpmiPowerAck(stdout, target)) throw this.error("Protocol", `power ${target.toLowerCase()} not acknowledged: ${this.concise(stdout) || "(nothing)"}`);
  }

  /** Runs ipmitool and returns its standard output, or throws the classified failure. */
  private async run(command: IpmiPowerCommand, signal: AbortSignal): Promise<string> {
    const result = await runDeviceProcess({
      file: this.ipmitool,
      args: ipmitoolArgs(this.target, command, this.timeoutMs),
      env: { ...process.env, LC_ALL: "C", IPMI_PASSWORD: this.target.credentials.password },
      timeoutMs: this.timeoutMs,
      signal,
    });
    return this.interpret(command, result);
  }

  private interpret(command: IpmiPowerCommand, result: DeviceProcessResult): string {
    switch (result.kind) {
      case "aborted":
        throw this.error("Aborted", `power ${command} aborted`);
      case "timeout":
        throw this.error("Timeout", `ipmitool power ${command} did not finish within ${Math.round(this.timeoutMs / 1000)} s (killed)`);
      case "spawn-failed":
        throw this.spawnError(result.code);
      case "exited":
        if (result.code === 0) return result.stdout;
        throw this.failure(command, result);
    }
  }

  private failure(command: IpmiPowerCommand, result: { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }): FenceDeviceError {
    const { reason, detail } = classifyIpmitoolFailure(result.stderr, result.stdout, this.target.credentials.password);
    const exit = result.code !== null ? `exit ${result.code}` : `signal ${result.signal ?? "?"}`;
    const said = detail ? `: ${detail}` : "";
    switch (reason) {
      case "AuthFailed":
        return this.error(reason, `BMC refused user ${this.user()} at privilege ${this.target.privilegeLevel} (${exit})${said}; check the username, password and privilege level`);
      case "Config":
        return this.error(reason, `the BMC does not support the requested session (${exit})${said}; set a cipher suite it supports`);
      case "Unreachable":
        return this.error(reason, `no answer from the BMC to power ${command} (${exit})${said}`);
      default:
        return this.error(reason, `ipmitool power ${command} failed (${exit})${said}`);
    }
  }

  private spawnError(code: string): FenceDeviceError {
    if (code === "ENOENT") {
      return this.error("Config", `ipmitool not found (${JSON.stringify(this.ipmitool)}); install ipmitool (Debian/Ubuntu: apt-get install ipmitool) or set its path`);
    }
    if (code === "EACCES") return this.error("Config", `ipmitool at ${JSON.stringify(this.ipmitool)} is not executable`);
    return this.error("Config", `cannot start ipmitool (${code})`);
  }

  private user(): string {
    const u = this.target.credentials.username;
    return JSON.stringify(u.length > 64 ? `${u.slice(0, 61)}...` : u);
  }

  private concise(text: string): string {
    return conciseOutput(text, this.target.credentials.password, { maxChars: 200 });
  }

  private error(reason: FenceDeviceError["reason"], message: string): FenceDeviceError {
    return new FenceDeviceError(reason, scrubSecret(`${this.description}: ${message}`, this.target.credentials.password));
  }
}
