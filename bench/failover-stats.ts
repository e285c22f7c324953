import { createServer, type Server } from "node:http";

/** Times of one failover trial, in ms from the host's failure (the last from detection). */
export interface FailoverTrial {
  detectedMs: number;
  /** Power read back Off and Nova forced_down (absent when fencing was skipped). */
  fencedMs?: number;
  firstEvacuationMs: number;
  allActiveMs: number;
  notifiedAfterDetectionMs: number;
}

/** An owner's webhook on loopback: when each incident's `detected` event arrived. */
export interface WebhookLog {
  url: string;
  received: Map<string, number>;
  close(): void;
}

export async function startWebhookLog(): Promise<WebhookLog> {
  const received = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      const ev = JSON.parse(body) as { subject?: string; type?: string };
      if (ev.type === "dev.vmkeeper.incident.detected" && ev.subject && !received.has(ev.subject)) received.set(ev.subject, Date.now());
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/hook`, received, close: () => server.close() };
}

/** p50 and max of one figure over the trials, for the printed table. */
export function stat(trials: readonly FailoverTrial[], k: keyof FailoverTrial): string {
  const v = trials.map((x) => x[k]).filter((x): x is number => x !== undefined && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return "n/a";
  return `p50 ${v[Math.floor((v.length - 1) / 2)]} ms, max ${v[v.length - 1]} ms`;
}

export function printFailover(title: string, trials: readonly FailoverTrial[], vms: number): void {
  console.log(`\n${title}`);
  console.log(`  host fails → detected:                  ${stat(trials, "detectedMs")}`);
  if (trials.some((t) => t.fencedMs !== undefined)) console.log(`  host fails → fenced (power Off, forced down): ${stat(trials, "fencedMs")}`);
  console.log(`  host fails → first evacuation accepted: ${stat(trials, "firstEvacuationMs")}`);
  console.log(`  host fails → all ${vms} VMs ACTIVE:         ${stat(trials, "allActiveMs")}`);
  console.log(`  detected → owner webhook received:      ${stat(trials, "notifiedAfterDetectionMs")}`);
}
