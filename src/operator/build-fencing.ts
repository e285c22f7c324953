import { prometheusFencingMetrics, type FencingMetrics } from "../controllers/host-fencing/fencing-metrics.js";
import { FencingSlots } from "../controllers/host-fencing/fencing-slots.js";
import { HostFencingProvider } from "../controllers/host-fencing/host-fencing-provider.js";
import { secretReader } from "../controllers/host-fencing/secret-reader.js";
import { createDeviceFactory, type FenceDeviceFactory } from "../fencing/fence-device-factory.js";
import { KdumpReceiver } from "../kdump/kdump-receiver.js";
import type { OperatorContext } from "./operator-context.js";

/** The fencing side of the composition root: real device protocols, the provider the Incident workflow calls, and metrics. */
export function buildFencing(ctx: OperatorContext): { provider: HostFencingProvider; devices: FenceDeviceFactory; metrics: FencingMetrics; kdump: KdumpReceiver | undefined } {
  const devices = createDeviceFactory({ clock: ctx.clock, ...(ctx.cfg.fenceAgentDir ? { fenceAgentDir: ctx.cfg.fenceAgentDir } : {}), ...(ctx.cfg.ipmitoolPath ? { ipmitoolPath: ctx.cfg.ipmitoolPath } : {}) });
  const metrics = prometheusFencingMetrics(ctx.registry);
  const kdump = ctx.cfg.kdumpBindAddress ? new KdumpReceiver(ctx.clock, ctx.registry) : undefined;
  const provider = new HostFencingProvider({
    listHostFencings: (ns) => ctx.inNamespace(ctx.informers.hostFencings, ns),
    getHost: (ns, name) => ctx.informers.hosts.get(`${ns}/${name}`),
    secrets: (ns) => secretReader(ctx.clients.secrets, ns),
    devices,
    ...(kdump ? { kdump } : {}),
    slots: new FencingSlots(),
    clock: ctx.clock,
    log: ctx.log.child({ component: "fencing" }),
    metrics,
  });
  return { provider, devices, metrics, kdump };
}
