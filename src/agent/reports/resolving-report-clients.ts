import type { LookupFn } from "../../heartbeat/heartbeat-targets.js";
import { systemLookup } from "../../heartbeat/heartbeat-targets.js";
import type { Clock } from "../../util/clock.js";
import type { Logger } from "../../util/logger.js";
import type { AgentReport, AgentReportSink } from "./agent-report.js";
import { ReportClient, type ReportClientOptions } from "./report-client.js";
import type { ReportClientMetrics } from "./report-client-metrics.js";

export interface ResolvingReportClientsOptions extends Omit<ReportClientOptions, "endpoints" | "tlsServerName" | "clock" | "log" | "metrics"> {
  /** Report URLs as configured; a host name stands for every address it resolves to (a headless Service). */
  endpoints: string[];
  clock: Clock;
  log: Logger;
  metrics: ReportClientMetrics;
  lookup?: LookupFn;
}

/** An IP literal needs no resolution; IPv6 in URLs is bracketed. */
const isIpLiteral = (host: string): boolean => /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.startsWith("[");

/**
 * Every operator replica gets every report, each through its own ReportClient (own buffer,
 * own backoff), like heartbeats: a report only one replica saw would leave the leader blind
 * to it. A configured URL whose host is a name (the chart's headless Service, or one name per
 * replica) becomes one client per address, verifying the certificate against that name.
 * `refresh` re-resolves: a new address gets a client, a vanished one is closed after a short
 * drain; a name that fails to resolve keeps its clients (a DNS outage silences nothing).
 */
export class ResolvingReportClients implements AgentReportSink {
  private readonly clients = new Map<string, ReportClient>();
  private readonly bufferedBy = new Map<string, number>();
  private readonly lastResolved = new Map<string, { url: string; serverName?: string }[]>();
  private readonly lookup: LookupFn;

  constructor(private readonly o: ResolvingReportClientsOptions) {
    this.lookup = o.lookup ?? systemLookup;
  }

  submit(report: AgentReport): void {
    for (const c of this.clients.values()) c.submit(report);
  }

  /** Reports not delivered yet, summed over the replicas. */
  get pending(): number {
    let n = 0;
    for (const c of this.clients.values()) n += c.pending;
    return n;
  }

  get endpointCount(): number {
    return this.clients.size;
  }

  /** The per-replica URLs after the last refresh (server-group messaging follows the same replicas). */
  resolved(): { url: string; serverName?: string }[] {
    return [...this.current];
  }

  private current: { url: string; serverName?: string }[] = [];

  async refresh(): Promise<void> {
    const wanted = new Map<string, { url: string; serverName?: string }>();
    for (const raw of this.o.endpoints) {
      for (const want of await this.resolve(raw)) wanted.set(want.url, want);
    }
    this.current = [...wanted.values()];
    for (const [key, want] of wanted) {
      if (this.clients.has(key)) continue;
      const { lookup: _lookup, endpoints: _endpoints, ...rest } = this.o;
      const client = new ReportClient({ ...rest, metrics: this.metricsFor(key), endpoints: [want.url], ...(want.serverName ? { tlsServerName: want.serverName } : {}) });
      client.start();
      this.clients.set(key, client);
      this.o.log.info({ endpoint: want.url }, "agent reports: reporting to an operator replica");
    }
    for (const [key, client] of this.clients) {
      if (wanted.has(key)) continue;
      this.clients.delete(key);
      this.bufferedBy.delete(key);
      this.o.log.info({ endpoint: key }, "agent reports: operator replica gone; stopping its client");
      void client.close(1000);
    }
  }

  /**
   * The per-replica URLs one configured endpoint stands for. A name that does not resolve
   * now keeps the addresses it had (remembered per configured endpoint).
   */
  private async resolve(raw: string): Promise<{ url: string; serverName?: string }[]> {
    const url = new URL(raw);
    const host = url.hostname;
    if (isIpLiteral(host)) return [{ url: url.href }];
    try {
      const addrs = await this.lookup(host);
      const out = addrs.map((a) => {
        const u = new URL(url.href);
        u.hostname = a.family === 6 ? `[${a.address}]` : a.address;
        return { url: u.href, serverName: host };
      });
      this.lastResolved.set(raw, out);
      return out;
    } catch (err: unknown) {
      this.o.log.warn({ host, err: err instanceof Error ? err.message : String(err) }, "agent reports: cannot resolve the operator's report endpoint; keeping its last addresses");
      return this.lastResolved.get(raw) ?? [];
    }
  }

  /** The shared series, with the buffered gauge as the sum over the replicas' clients. */
  private metricsFor(key: string): ReportClientMetrics {
    const m = this.o.metrics;
    return {
      sent: (n) => m.sent(n),
      dropped: (n) => m.dropped(n),
      error: (reason) => m.error(reason),
      buffered: (n) => {
        this.bufferedBy.set(key, n);
        let sum = 0;
        for (const v of this.bufferedBy.values()) sum += v;
        m.buffered(sum);
      },
    };
  }

  async close(graceMs = 2000): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.close(graceMs)));
    this.clients.clear();
  }
}
