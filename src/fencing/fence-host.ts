import type { Clock } from "../util/clock.js";
import { DeadlineExceeded, deadlineSignal } from "./deadline-signal.js";
import { FenceDeviceError, type FenceDevice, type PowerState } from "./fence-device.js";
import type { ResolvedDevice, ResolvedHostFencing, ResolvedLevel } from "./resolved-levels.js";

export type DeviceResultKind = "Succeeded" | "Failed" | "TimedOut" | "Skipped";

/** What one device did in one fencing operation (one entry per device, after its retries). */
export interface DeviceResult {
  level: string;
  device: string;
  result: DeviceResultKind;
  powerState?: PowerState;
  message?: string;
  attempts: number;
  time: string;
}

export interface FenceHostResult {
  fenced: boolean;
  /** The level that passed, or the last level tried. */
  level?: string;
  devices: DeviceResult[];
  message: string;
}

/** Kdump notices seen from a host: whether it is dumping now, and whether the dump finished. */
export interface KdumpWatch {
  state(serviceHost: string, key: Buffer): { dumping: boolean; finished: boolean };
}

export interface FenceEngineDeps {
  clock: Clock;
  /** The protocol implementation for a power device (Redfish, IPMI, FenceAgent, Noop). */
  deviceFor: (d: ResolvedDevice, serviceHost: string) => FenceDevice;
  kdump?: KdumpWatch;
  /** How often power is read back after an off request. */
  pollIntervalMs?: number;
}

const DEFAULT_POLL_MS = 1000;

/**
 * Fences one host: levels in order, every power device of a level must reach Off, read back
 * from the device itself (a device that acknowledges and stays On fails, F5). Each device has
 * its own attempt timeout and retries with doubling back-off; the whole operation has a
 * deadline. Kdump devices only delay their level's power devices while the host is dumping
 * (an authenticated notice was seen), never longer than their timeout, and never count as
 * fencing (F21). Nova force-down is not done here: the incident workflow does it after.
 */
export async function fenceHost(plan: ResolvedHostFencing, deps: FenceEngineDeps, signal: AbortSignal): Promise<FenceHostResult> {
  const deadline = deadlineSignal(deps.clock, plan.operationDeadlineMs, signal, `fencing deadline of ${plan.operationDeadlineMs / 1000}s passed`);
  const devices: DeviceResult[] = [];
  try {
    for (const level of plan.levels) {
      if (deadline.signal.aborted) break;
      const results = await runLevel(level, plan.serviceHost, deps, deadline.signal);
      devices.push(...results);
      if (results.every((r) => r.result === "Succeeded" || isKdump(level, r.device))) {
        return { fenced: true, level: level.name, devices, message: `level ${level.name} passed: power read back Off on ${powerDevices(level).map((d) => d.name).join(", ")}` };
      }
    }
  } finally {
    deadline.dispose();
  }
  const failed = devices.filter((d) => d.result !== "Succeeded" && d.result !== "Skipped");
  const why = failed.map((d) => `${d.level}/${d.device}: ${d.message ?? d.result}`).join("; ");
  const late = deadline.signal.aborted && deadline.signal.reason instanceof DeadlineExceeded ? `${deadline.signal.reason.message}; ` : "";
  return { fenced: false, ...(devices.at(-1) ? { level: devices.at(-1)?.level } : {}), devices, message: `no fencing level passed: ${late}${why || "no level was tried"}` };
}

const isKdump = (level: ResolvedLevel, device: string): boolean => level.devices.some((d) => d.name === device && d.kind === "Kdump");
const powerDevices = (level: ResolvedLevel): ResolvedDevice[] => level.devices.filter((d) => d.kind !== "Kdump");

async function runLevel(level: ResolvedLevel, serviceHost: string, deps: FenceEngineDeps, signal: AbortSignal): Promise<DeviceResult[]> {
  const kdumpResults: DeviceResult[] = [];
  for (const k of level.devices.filter((d) => d.kind === "Kdump")) kdumpResults.push(await waitForDump(k, serviceHost, deps, signal));
  const power = await Promise.all(powerDevices(level).map((d) => switchWithRetries(d, "Off", () => deps.deviceFor(d, serviceHost), deps, signal)));
  return [...kdumpResults, ...power];
}

/** While the host reports a kdump in progress, hold the power devices until it finishes or the wait ends. */
async function waitForDump(d: ResolvedDevice, serviceHost: string, deps: FenceEngineDeps, signal: AbortSignal): Promise<DeviceResult> {
  const started = deps.clock.monotonicMs();
  const base = { level: d.level, device: d.name, attempts: 1 };
  const time = (): string => deps.clock.now().toISOString();
  if (d.configError || !d.kdump) return { ...base, result: "Failed", message: d.configError ?? "kdump settings missing", time: time() };
  const { key, waitMs } = d.kdump;
  if (!deps.kdump?.state(serviceHost, key).dumping) return { ...base, result: "Skipped", message: "no authenticated kdump notice from the host; power is cut now", time: time() };
  while (deps.clock.monotonicMs() - started < waitMs && !signal.aborted) {
    if (deps.kdump.state(serviceHost, key).finished) return { ...base, result: "Succeeded", message: "kdump finished; power is cut now", time: time() };
    await deps.clock.sleep(Math.min(1000, waitMs), signal).catch(() => undefined);
  }
  return { ...base, result: "TimedOut", message: `kdump still running after ${waitMs / 1000}s; power is cut now`, time: time() };
}

async function switchWithRetries(d: ResolvedDevice, target: "Off" | "On", make: () => FenceDevice, deps: FenceEngineDeps, signal: AbortSignal): Promise<DeviceResult> {
  const base = { level: d.level, device: d.name };
  const time = (): string => deps.clock.now().toISOString();
  if (d.configError) return { ...base, result: "Failed", message: d.configError, attempts: 0, time: time() };
  let last: { result: DeviceResultKind; message: string; powerState?: PowerState } = { result: "Failed", message: "not attempted" };
  let attempts = 0;
  for (let attempt = 0; attempt <= d.retries && !signal.aborted; attempt++) {
    if (attempt > 0) {
      const ok = await deps.clock.sleep(d.retryIntervalMs * 2 ** (attempt - 1), signal).then(() => true, () => false);
      if (!ok) break;
    }
    attempts++;
    last = await switchOnce(d, target, make, deps, signal);
    if (last.result === "Succeeded") break;
    if (last.result === "Failed" && /^(Config|AuthFailed):/.test(last.message)) break;
  }
  if (signal.aborted && last.result !== "Succeeded") last = { ...last, result: "TimedOut", message: `${last.message} (operation deadline)` };
  return { ...base, ...last, message: last.message.replace(/^(Config|AuthFailed|Unreachable|Timeout|Protocol|PowerStillOn|Aborted): /, ""), attempts, time: time() };
}

/** One attempt: request the power state, then read it back until it holds or the attempt times out. */
async function switchOnce(d: ResolvedDevice, target: "Off" | "On", make: () => FenceDevice, deps: FenceEngineDeps, parent: AbortSignal): Promise<{ result: DeviceResultKind; message: string; powerState?: PowerState }> {
  const attempt = deadlineSignal(deps.clock, d.timeoutMs, parent, `no power read back ${target} within ${d.timeoutMs / 1000}s`);
  let seen: PowerState | undefined;
  try {
    const device = make();
    await device.setPower(target, attempt.signal);
    for (;;) {
      seen = await device.powerState(attempt.signal);
      if (seen === target) return { result: "Succeeded", message: `power read back ${target}`, powerState: target };
      await deps.clock.sleep(deps.pollIntervalMs ?? DEFAULT_POLL_MS, attempt.signal);
    }
  } catch (e: unknown) {
    const seenPart = seen ? { powerState: seen } : {};
    if (attempt.signal.aborted && !parent.aborted) {
      const stillOn = seen !== undefined && seen !== target ? `PowerStillOn: device accepted power ${target.toLowerCase()} but power still reads ${seen}` : `Timeout: ${(attempt.signal.reason as Error).message}`;
      return { result: "TimedOut", message: stillOn, ...seenPart };
    }
    if (e instanceof FenceDeviceError) return { result: e.reason === "Timeout" ? "TimedOut" : "Failed", message: `${e.reason}: ${e.message}`, ...seenPart };
    return { result: "Failed", message: `Protocol: ${e instanceof Error ? e.message : String(e)}`, ...seenPart };
  } finally {
    attempt.dispose();
  }
}

/**
 * Unfencing: powers the host back on through the power devices of the level that fenced it,
 * reading power back On. Used only after the Incident is over and only when the HostFencing
 * says `unfence: Automatic`; Nova force-down and disable are lifted by the host re-enable step.
 */
export async function powerOnHost(plan: ResolvedHostFencing, levelName: string, deps: FenceEngineDeps, signal: AbortSignal): Promise<{ poweredOn: boolean; devices: DeviceResult[]; message: string }> {
  const level = plan.levels.find((l) => l.name === levelName);
  if (!level) return { poweredOn: false, devices: [], message: `level ${levelName} no longer exists in HostFencing ${plan.hostFencing}` };
  const deadline = deadlineSignal(deps.clock, plan.operationDeadlineMs, signal, `power-on deadline of ${plan.operationDeadlineMs / 1000}s passed`);
  try {
    const devices = await Promise.all(powerDevices(level).map((d) => switchWithRetries(d, "On", () => deps.deviceFor(d, plan.serviceHost), deps, deadline.signal)));
    const ok = devices.every((r) => r.result === "Succeeded");
    return { poweredOn: ok, devices, message: ok ? `power read back On through level ${level.name}` : devices.filter((r) => r.result !== "Succeeded").map((r) => `${r.level}/${r.device}: ${r.message ?? r.result}`).join("; ") };
  } finally {
    deadline.dispose();
  }
}
