import type { ComputeHost, HostFencing, IncidentFencingDevice } from "../../api/v1alpha1/index.js";
import { fenceHost, type DeviceResult, type KdumpWatch } from "../../fencing/fence-host.js";
import type { FenceDeviceFactory } from "../../fencing/fence-device-factory.js";
import { resolveHostDevices, type SecretReader } from "../../fencing/resolve-host-devices.js";
import { hostFencingsFor } from "../../fencing/select-fenced-hosts.js";
import type { FencingOutcome } from "../../recovery/workflow/workflow-model.js";
import type { Clock } from "../../util/clock.js";
import type { Logger } from "../../util/logger.js";
import type { FencingProvider } from "../incident/fencing-provider.js";
import type { FencingMetrics } from "./fencing-metrics.js";
import type { FencingSlots } from "./fencing-slots.js";

export interface HostFencingProviderDeps {
  listHostFencings: (namespace: string) => HostFencing[];
  getHost: (namespace: string, name: string) => ComputeHost | undefined;
  secrets: (namespace: string) => SecretReader;
  devices: FenceDeviceFactory;
  kdump?: KdumpWatch;
  slots: FencingSlots;
  clock: Clock;
  log: Logger;
  metrics: FencingMetrics;
  /** How often power is read back after an off request (default 1 s). */
  pollIntervalMs?: number;
}

/**
 * Fences a host through the one HostFencing that selects it. No HostFencing → NotConfigured
 * (only then may a policy's unsafeSkipPowerFencing apply); two or more → Failed until a
 * person resolves the conflict (which object's devices are right cannot be guessed).
 */
export class HostFencingProvider implements FencingProvider {
  constructor(private readonly d: HostFencingProviderDeps) {}

  async fence(req: { namespace: string; hostName: string; serviceHost: string; epoch: number; signal: AbortSignal }): Promise<FencingOutcome> {
    const host = this.d.getHost(req.namespace, req.hostName);
    if (!host) return { kind: "Failed", message: `ComputeHost ${req.hostName} not found`, devices: [] };
    const matches = hostFencingsFor(host, this.d.listHostFencings(req.namespace));
    const [hf] = matches;
    if (!hf) return { kind: "NotConfigured", message: `no HostFencing selects ${req.hostName}` };
    const name = hf.metadata?.name ?? "";
    if (matches.length > 1) {
      this.d.metrics.operation(name, "Conflict", 0);
      return { kind: "Failed", hostFencing: name, message: `${req.hostName} is selected by several HostFencing objects (${matches.map((m) => m.metadata?.name).join(", ")}); it is not fenced until only one selects it`, devices: [] };
    }
    const release = await this.d.slots.acquire(`${req.namespace}/${name}`, hf.spec.maxConcurrentFencing ?? 4, req.signal);
    const started = this.d.clock.monotonicMs();
    try {
      const plan = await resolveHostDevices(hf, { name: req.hostName, serviceHost: req.serviceHost }, this.d.secrets(req.namespace));
      const result = await fenceHost(plan, { clock: this.d.clock, deviceFor: this.d.devices, ...(this.d.kdump ? { kdump: this.d.kdump } : {}), ...(this.d.pollIntervalMs ? { pollIntervalMs: this.d.pollIntervalMs } : {}) }, req.signal);
      const seconds = (this.d.clock.monotonicMs() - started) / 1000;
      this.d.metrics.operation(name, result.fenced ? "Succeeded" : "Failed", seconds);
      this.d.log.info({ host: req.hostName, hostFencing: name, epoch: req.epoch, fenced: result.fenced, level: result.level, seconds, devices: result.devices.map((r) => `${r.level}/${r.device}=${r.result}`) }, result.message);
      const devices = result.devices.map(toIncidentDevice);
      if (result.fenced && result.level) return { kind: "PowerOff", level: result.level, hostFencing: name, devices };
      return { kind: "Failed", hostFencing: name, message: result.message, devices, ...(result.level ? { level: result.level } : {}) };
    } finally {
      release();
    }
  }
}

function toIncidentDevice(r: DeviceResult): IncidentFencingDevice {
  return {
    level: r.level,
    device: r.device,
    result: r.result,
    ...(r.powerState ? { powerState: r.powerState } : {}),
    ...(r.message ? { message: r.message.slice(0, 1024) } : {}),
    time: r.time,
  };
}
