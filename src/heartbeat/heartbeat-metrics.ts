import { Counter, Gauge, type Registry } from "prom-client";

export const INGEST_RESULTS = ["accepted", "bad_mac", "replay", "malformed", "oversize", "unknown_key", "unknown_version", "stale", "host_limit"] as const;
export type IngestResult = (typeof INGEST_RESULTS)[number];

/** Receiver series; the label children are bound once so counting costs no label lookup. */
export class HeartbeatReceiverMetrics {
  private readonly byResult: Record<IngestResult, { inc(): void }>;

  constructor(registry: Registry, hostCount: () => number) {
    const received = new Counter({
      name: "vmkeeper_heartbeats_received_total",
      help: "Heartbeat datagrams received, by result (accepted, or why they were dropped).",
      labelNames: ["result"],
      registers: [registry],
    });
    // Bound once, and exported at 0 from the start so rate() works from the first drop.
    this.byResult = Object.fromEntries(
      INGEST_RESULTS.map((r) => {
        const child = received.labels({ result: r });
        child.inc(0);
        return [r, child];
      }),
    ) as Record<IngestResult, { inc(): void }>;
    new Gauge({
      name: "vmkeeper_heartbeat_hosts",
      help: "Hosts this receiver holds heartbeat state for.",
      registers: [registry],
      collect() {
        this.set(hostCount());
      },
    });
  }

  count(result: IngestResult): void {
    this.byResult[result].inc();
  }
}
