import { Gauge, type Registry } from "prom-client";
import type { Clock } from "../../util/clock.js";
import type { Logger } from "../../util/logger.js";
import { parseDomainXml, normaliseUuid, type DomainInfo } from "./domain-xml.js";
import type { LibvirtReader } from "./virsh-client.js";

/** One domain as last read from libvirt. */
export interface InventoryDomain extends DomainInfo {
  /** `virsh domstate --reason` at the last refresh: `running (booted)`, `shut off (destroyed)`. */
  state: string;
}

/** A VM's heartbeat channel, in the shape the guest channel manager takes. */
export interface HeartbeatChannel {
  instanceUuid: string;
  socketPath: string;
}

export interface DomainInventoryOptions {
  reader: LibvirtReader;
  registry: Registry;
  clock: Clock;
  log: Logger;
  /** Periodic refresh in `run`; default 60 s. Lifecycle events refresh it in between. */
  refreshIntervalMs?: number;
  /** Called after a refresh that changed any domain, its XML-derived fields or its state. */
  onChange?: (domains: readonly InventoryDomain[]) => void;
}

const READ_CONCURRENCY = 4;

interface Waiter {
  ticket: number;
  resolve: (domains: InventoryDomain[]) => void;
  reject: (err: unknown) => void;
}

/**
 * The libvirt domains of this host: name, UUID (= Nova instance UUID), Nova metadata,
 * heartbeat channel socket and state. Refreshes are coalesced: every `refresh()` resolves
 * with a read that started after it was called, however many callers ask at once.
 */
export class DomainInventory {
  private domains: InventoryDomain[] = [];
  private byName = new Map<string, InventoryDomain>();
  /** Names of the previous generation, so an event about a domain that just vanished still resolves. */
  private previousByName = new Map<string, InventoryDomain>();
  private tickets = 0;
  private waiters: Waiter[] = [];
  private draining = false;
  private readonly gauge: Gauge;
  private readonly refreshIntervalMs: number;

  constructor(private readonly options: DomainInventoryOptions) {
    this.refreshIntervalMs = options.refreshIntervalMs ?? 60_000;
    this.gauge = new Gauge({ name: "vmkeeper_agent_libvirt_domains", help: "libvirt domains on this host at the last inventory refresh.", registers: [options.registry] });
  }

  list(): readonly InventoryDomain[] {
    return this.domains;
  }

  get(nameOrUuid: string): InventoryDomain | undefined {
    return this.byName.get(nameOrUuid) ?? this.domains.find((d) => d.uuid === nameOrUuid);
  }

  /** Heartbeat channels of every domain that has one. */
  heartbeatChannels(): HeartbeatChannel[] {
    return this.domains.flatMap((d) => (d.heartbeatSocketPath === undefined ? [] : [{ instanceUuid: d.uuid, socketPath: d.heartbeatSocketPath }]));
  }

  /** The instance UUID behind a domain name: from the inventory, else asked of libvirt. */
  async resolveUuid(name: string): Promise<string | undefined> {
    const known = this.byName.get(name) ?? this.previousByName.get(name);
    if (known) return known.uuid;
    try {
      return normaliseUuid(await this.options.reader.domainUuid(name));
    } catch (err: unknown) {
      this.options.log.debug({ domain: name, err: errorMessage(err) }, "libvirt domain uuid lookup failed");
      return undefined;
    }
  }

  /** Reads every domain again; resolves with the new list. */
  refresh(): Promise<InventoryDomain[]> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ ticket: ++this.tickets, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  /** A refresh whose failure is logged, for callers that do not wait. */
  requestRefresh(): void {
    this.refresh().catch((err: unknown) => this.options.log.warn({ err: errorMessage(err) }, "libvirt inventory refresh failed"));
  }

  /** Refreshes every `refreshIntervalMs` until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.refresh();
      } catch (err: unknown) {
        this.options.log.warn({ err: errorMessage(err) }, "libvirt inventory refresh failed");
      }
      try {
        await this.options.clock.sleep(this.refreshIntervalMs, signal);
      } catch {
        return;
      }
    }
  }

  /** Reads until no caller waits; each read answers the callers that asked before it started. */
  private async drain(): Promise<void> {
    this.draining = true;
    while (this.waiters.length > 0) {
      const upTo = this.tickets;
      const answered = this.waiters.filter((w) => w.ticket <= upTo);
      this.waiters = this.waiters.filter((w) => w.ticket > upTo);
      try {
        const result = await this.readAll();
        this.apply(result);
        for (const w of answered) w.resolve(result);
      } catch (err: unknown) {
        for (const w of answered) w.reject(err);
      }
    }
    this.draining = false;
  }

  private apply(next: InventoryDomain[]): void {
    const changed = JSON.stringify(this.domains) !== JSON.stringify(next);
    this.previousByName = this.byName;
    this.domains = next;
    this.byName = new Map(next.map((d) => [d.name, d]));
    this.gauge.set(next.length);
    if (changed) this.options.onChange?.(next);
  }

  private async readAll(): Promise<InventoryDomain[]> {
    const uuids = await this.options.reader.listDomainUuids();
    const out: InventoryDomain[] = [];
    for (let i = 0; i < uuids.length; i += READ_CONCURRENCY) {
      const batch = await Promise.all(uuids.slice(i, i + READ_CONCURRENCY).map((u) => this.readOne(u)));
      for (const d of batch) if (d) out.push(d);
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  private async readOne(uuid: string): Promise<InventoryDomain | undefined> {
    try {
      const [xml, state] = await Promise.all([this.options.reader.dumpXml(uuid), this.options.reader.domainState(uuid)]);
      return { ...parseDomainXml(xml), state };
    } catch (err: unknown) {
      // Undefined between list and dumpxml, or XML we cannot read: leave it out this time.
      this.options.log.warn({ uuid, err: errorMessage(err) }, "libvirt domain skipped in inventory");
      return undefined;
    }
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
