import { lookup as dnsLookup } from "node:dns/promises";
import type { Clock } from "../util/clock.js";
import type { Logger } from "../util/logger.js";
import { ipFamily, type HostPort, type UdpTarget } from "./udp-address.js";

/** Where heartbeats go right now. */
export interface TargetSource {
  current(): readonly UdpTarget[];
}

/** Resolves a name to all its addresses (A and AAAA). */
export type LookupFn = (host: string) => Promise<{ address: string; family: number }[]>;

export const systemLookup: LookupFn = (host) => dnsLookup(host, { all: true, verbatim: true });

/**
 * Targets written as `HOST:PORT` where HOST may be an IP literal or a DNS name that resolves
 * to several addresses (a headless Service naming every operator replica). `refresh`
 * re-resolves names; a name that fails to resolve keeps its last good addresses, so a DNS
 * outage never silences heartbeats.
 */
export class ResolvingTargets implements TargetSource {
  private targets: readonly UdpTarget[] = [];
  private readonly lastGood = new Map<string, UdpTarget[]>();

  constructor(
    private readonly specs: () => readonly HostPort[],
    private readonly log: Logger,
    private readonly lookup: LookupFn = systemLookup,
  ) {}

  current(): readonly UdpTarget[] {
    return this.targets;
  }

  async refresh(): Promise<void> {
    const all: UdpTarget[] = [];
    const seen = new Set<string>();
    const specs = this.specs();
    const resolved = await Promise.all(specs.map((s) => this.resolveOne(s)));
    for (const list of resolved) {
      for (const t of list) {
        const k = `${t.address}|${t.port}`;
        if (seen.has(k)) continue;
        seen.add(k);
        all.push(t);
      }
    }
    this.targets = all;
  }

  private async resolveOne(spec: HostPort): Promise<UdpTarget[]> {
    const literal = ipFamily(spec.host);
    if (literal) return [{ address: spec.host, family: literal, port: spec.port }];
    const key = `${spec.host}:${spec.port}`;
    try {
      const addrs = await this.lookup(spec.host);
      const list = addrs.filter((a) => a.family === 4 || a.family === 6).map((a) => ({ address: a.address, family: a.family === 6 ? (6 as const) : (4 as const), port: spec.port }));
      this.lastGood.set(key, list);
      return list;
    } catch (err: unknown) {
      const kept = this.lastGood.get(key) ?? [];
      this.log.warn({ target: key, kept: kept.length, err: err instanceof Error ? err.message : String(err) }, "cannot resolve heartbeat target; keeping last addresses");
      return kept;
    }
  }

  /** Re-resolves every `refreshMs` until aborted. */
  async run(clock: Clock, refreshMs: number, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await clock.sleep(refreshMs, signal);
      } catch {
        return;
      }
      await this.refresh();
    }
  }
}
