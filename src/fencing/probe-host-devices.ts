import type { Clock } from "../util/clock.js";
import { deadlineSignal } from "./deadline-signal.js";
import { FenceDeviceError, type PowerState } from "./fence-device.js";
import type { FenceDeviceFactory } from "./fence-device-factory.js";
import type { ResolvedDevice, ResolvedHostFencing } from "./resolved-levels.js";

/** The health of one device, from a status-only probe. */
export interface DeviceProbe {
  level: string;
  device: string;
  kind: ResolvedDevice["kind"];
  reachable: boolean;
  powerState: PowerState;
  error?: string;
}

/**
 * Reads the power state of every device of one host, changing nothing: the periodic health
 * check and `vmkeeper fence test`. Kdump devices are "reachable" when their key resolves
 * (there is nothing to ask: the host sends notices only while it dumps).
 */
export async function probeHostDevices(plan: ResolvedHostFencing, devices: FenceDeviceFactory, clock: Clock, signal: AbortSignal): Promise<DeviceProbe[]> {
  const all = plan.levels.flatMap((l) => l.devices);
  return Promise.all(all.map((d) => probeDevice(d, plan.serviceHost, devices, clock, signal)));
}

async function probeDevice(d: ResolvedDevice, serviceHost: string, devices: FenceDeviceFactory, clock: Clock, signal: AbortSignal): Promise<DeviceProbe> {
  const base = { level: d.level, device: d.name, kind: d.kind };
  if (d.configError) return { ...base, reachable: false, powerState: "Unknown", error: d.configError };
  if (d.kind === "Kdump") return { ...base, reachable: true, powerState: "Unknown" };
  const attempt = deadlineSignal(clock, d.timeoutMs, signal, `no answer within ${d.timeoutMs / 1000}s`);
  try {
    const powerState = await devices(d, serviceHost).powerState(attempt.signal);
    return { ...base, reachable: true, powerState };
  } catch (e: unknown) {
    const error = attempt.signal.aborted && !signal.aborted ? `Timeout: ${(attempt.signal.reason as Error).message}` : e instanceof FenceDeviceError ? `${e.reason}: ${e.message}` : e instanceof Error ? e.message : String(e);
    return { ...base, reachable: false, powerState: "Unknown", error: error.slice(0, 1024) };
  } finally {
    attempt.dispose();
  }
}

/** A host can be fenced when some level has every power device reachable (kdump devices only delay). */
export function hostFenceable(plan: ResolvedHostFencing, probes: readonly DeviceProbe[]): boolean {
  return plan.levels.some((l) => {
    const power = l.devices.filter((d) => d.kind !== "Kdump");
    return power.length > 0 && power.every((d) => probes.find((p) => p.level === l.name && p.device === d.name)?.reachable === true);
  });
}
