import type { Clock } from "../util/clock.js";
import { FenceDeviceError, type FenceDevice, type PowerState } from "./fence-device.js";

/** Power states of Noop devices by host, kept by the factory so every attempt sees the same "machine". */
export type NoopPowerTable = Map<string, PowerState>;

/**
 * The test-only device: `Succeed` switches a pretend power state after `delayMs`, `Fail`
 * refuses every request. It never touches real hardware, so any HostFencing that uses it
 * carries a Warning condition and Event (it proves nothing about the host).
 */
export function createNoopDevice(host: string, settings: { result: "Succeed" | "Fail"; delayMs: number }, table: NoopPowerTable, clock: Clock): FenceDevice {
  return {
    description: `noop (${settings.result}) for ${host}`,
    powerState: () => Promise.resolve(table.get(host) ?? "On"),
    async setPower(target, signal) {
      if (settings.delayMs > 0) await clock.sleep(settings.delayMs, signal);
      if (settings.result === "Fail") throw new FenceDeviceError("Protocol", "noop device configured to fail");
      table.set(host, target);
    },
  };
}
