import type { HostFencingLevelDeviceKind } from "../api/v1alpha1/index.js";
import type { PowerDeviceTarget } from "./device-targets.js";

/** A device of one host, ready to run, or the reason it cannot run. */
export interface ResolvedDevice {
  level: string;
  name: string;
  kind: HostFencingLevelDeviceKind;
  timeoutMs: number;
  retries: number;
  retryIntervalMs: number;
  /** Redfish, IPMI and FenceAgent. */
  target?: PowerDeviceTarget;
  noop?: { result: "Succeed" | "Fail"; delayMs: number };
  kdump?: { waitMs: number; key: Buffer };
  /** Set when the device's settings or Secret are unusable; the device then fails at once. */
  configError?: string;
}

export interface ResolvedLevel {
  name: string;
  devices: ResolvedDevice[];
}

/** One host's fencing plan: which HostFencing it comes from and its levels in order. */
export interface ResolvedHostFencing {
  hostFencing: string;
  host: string;
  serviceHost: string;
  levels: ResolvedLevel[];
  operationDeadlineMs: number;
}
