import { Counter, type Registry } from "prom-client";
import type { Clock } from "../../util/clock.js";
import type { Logger } from "../../util/logger.js";
import type { InventoryDomain } from "./domain-inventory.js";
import { HEARTBEAT_CHANNEL_NAME } from "./domain-xml.js";

/** The one libvirt change the agent makes to a domain. */
export interface LibvirtChannelWriter {
  attachDeviceLive(uuid: string, deviceXml: string): Promise<void>;
}

/**
 * The channel as plugged in: no source path, so libvirt picks one in its own channel
 * directory (`/var/lib/libvirt/qemu/channel/target/domain-N-NAME/`), which its security
 * driver (AppArmor, SELinux) already lets QEMU use.
 */
export const HEARTBEAT_CHANNEL_XML = `<channel type='unix'><source mode='bind'/><target type='virtio' name='${HEARTBEAT_CHANNEL_NAME}'/></channel>`;

/**
 * Whether the agent should plug the heartbeat channel into a domain: a running Nova
 * instance without the channel whose virtio-serial controller can take a port. libvirt
 * cannot hot-plug the controller itself, so a domain without one (an image without
 * hw_qemu_guest_agent) is left alone; the channel is plugged into the live domain only,
 * and Nova's next start of the domain (hard reboot, migration) drops it — the agent plugs
 * it in again when it sees that domain running.
 */
export function needsHeartbeatChannel(d: InventoryDomain): boolean {
  return d.nova !== undefined && d.state.startsWith("running") && d.heartbeatSocketPath === undefined && d.virtioSerial === true;
}

export interface HeartbeatChannelAttacherOptions {
  writer: LibvirtChannelWriter;
  registry: Registry;
  clock: Clock;
  log: Logger;
  /** A domain whose attach failed is tried again after this long; default 5 min. */
  retryAfterMs?: number;
}

/**
 * Plugs the vmkeeper heartbeat channel into running Nova domains that lack it, so guests
 * get the heartbeat without a Nova change (--attach-heartbeat-channels). Runs after each
 * inventory change; at most one pass at a time, a change during a pass runs another.
 */
export class HeartbeatChannelAttacher {
  private readonly failedAt = new Map<string, number>();
  /** `uuid/runId` of the runs that got the channel: not again until the domain starts anew. */
  private readonly attached = new Set<string>();
  private readonly attempts: Counter<"result">;
  private running: Promise<boolean> | undefined;
  private again: readonly InventoryDomain[] | undefined;

  constructor(private readonly o: HeartbeatChannelAttacherOptions) {
    this.attempts = new Counter({ name: "vmkeeper_agent_heartbeat_channel_attach_total", help: "Live attaches of the heartbeat channel to running domains, by result.", labelNames: ["result"], registers: [o.registry] });
    this.attempts.inc({ result: "attached" }, 0);
    this.attempts.inc({ result: "failed" }, 0);
  }

  /** Attaches where needed; resolves true when any domain got the channel (the inventory should be re-read). */
  reconcile(domains: readonly InventoryDomain[]): Promise<boolean> {
    if (this.running) {
      this.again = domains;
      return this.running;
    }
    const run = this.pass(domains).finally(() => {
      this.running = undefined;
      const next = this.again;
      this.again = undefined;
      if (next) void this.reconcile(next);
    });
    this.running = run;
    return run;
  }

  private async pass(domains: readonly InventoryDomain[]): Promise<boolean> {
    const now = this.o.clock.now().getTime();
    const retryAfter = this.o.retryAfterMs ?? 300_000;
    const live = new Set(domains.map((d) => d.uuid));
    const runs = new Set(domains.map(runKey));
    for (const uuid of this.failedAt.keys()) if (!live.has(uuid)) this.failedAt.delete(uuid);
    for (const key of this.attached) if (!runs.has(key)) this.attached.delete(key);
    let attached = false;
    for (const d of domains) {
      // The inventory may not show a channel attached a moment ago yet.
      if (!needsHeartbeatChannel(d) || this.attached.has(runKey(d))) continue;
      const failed = this.failedAt.get(d.uuid);
      if (failed !== undefined && now - failed < retryAfter) continue;
      try {
        await this.o.writer.attachDeviceLive(d.uuid, HEARTBEAT_CHANNEL_XML);
        this.failedAt.delete(d.uuid);
        this.attached.add(runKey(d));
        this.attempts.inc({ result: "attached" });
        this.o.log.info({ domain: d.name, instanceUuid: d.uuid }, "heartbeat channel attached to the running domain");
        attached = true;
      } catch (err: unknown) {
        this.failedAt.set(d.uuid, now);
        this.attempts.inc({ result: "failed" });
        this.o.log.warn({ domain: d.name, instanceUuid: d.uuid, err: err instanceof Error ? err.message : String(err) }, "could not attach the heartbeat channel; trying again later");
      }
    }
    return attached;
  }
}

function runKey(d: InventoryDomain): string {
  return `${d.uuid}/${d.runId ?? ""}`;
}
