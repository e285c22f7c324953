import type { Clock } from "../util/clock.js";
import { createFenceAgentDevice } from "./devices/fence-agent-device.js";
import { createIpmiDevice } from "./devices/ipmi-device.js";
import { createRedfishDevice } from "./devices/redfish-device.js";
import { FenceDeviceError, type FenceDevice } from "./fence-device.js";
import { createNoopDevice, type NoopPowerTable } from "./noop-device.js";
import type { ResolvedDevice } from "./resolved-levels.js";

export type FenceDeviceFactory = (d: ResolvedDevice, serviceHost: string) => FenceDevice;

export interface DeviceFactoryOptions {
  clock: Clock;
  /** ipmitool binary (default: `ipmitool` on PATH). */
  ipmitoolPath?: string;
  /** Folder holding fence_* agents (default: PATH). */
  fenceAgentDir?: string;
}

/** The real protocol implementation for each power device kind. */
export function createDeviceFactory(opts: DeviceFactoryOptions): FenceDeviceFactory {
  const noopTable: NoopPowerTable = new Map();
  return (d, serviceHost) => {
    if (d.noop) return createNoopDevice(serviceHost, d.noop, noopTable, opts.clock);
    const t = d.target;
    if (!t) throw new FenceDeviceError("Config", d.configError ?? `${d.kind} device ${d.name} has no power target`);
    switch (t.kind) {
      case "Redfish":
        return createRedfishDevice(t);
      case "IPMI":
        return createIpmiDevice(t, opts.ipmitoolPath ? { ipmitoolPath: opts.ipmitoolPath } : {});
      case "FenceAgent":
        return createFenceAgentDevice(t, opts.fenceAgentDir ? { agentDir: opts.fenceAgentDir } : {});
    }
  };
}
