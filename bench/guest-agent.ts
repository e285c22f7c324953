// Part of npm run bench:heartbeat — one real `vmkeeper agent` process serving N simulated
// guests (default 1000) at a 1 s heartbeat interval. This process plays QEMU and the guests:
// it listens on one unix socket per guest (as a chardev does), and on each connection sends
// `init` and answers every `challenge` healthy. The agent dials them from a static channels
// file and reports to a real AgentReportServer here. After every guest has an active session
// and a warm-up, the agent's CPU (utime + stime from /proc/PID/stat) and RSS (VmRSS) are
// sampled over a fixed window; printed as % of one core, with the challenges answered per
// second (must be ≈ N / interval: every session alive) and Unresponsive reports (must be 0).
// Knobs: GUEST_BENCH_GUESTS (1000), GUEST_BENCH_SECONDS (30), GUEST_BENCH_INTERVAL_MS (1000).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { prometheusReceiverMetrics } from "../src/agent-reports/receiver-metrics.js";
import { AgentReportServer } from "../src/agent-reports/report-server.js";
import { AgentReportTable } from "../src/agent-reports/report-table.js";
import { TokenSet } from "../src/agent-reports/token-set.js";
import { SystemClock } from "../src/util/clock.js";
import { silentLogger } from "../src/util/logger.js";
import { eventually } from "../test/support/eventually.js";
import { freeUdpPort } from "../test/support/free-udp-port.js";
import { ManagedProcess } from "../test/support/managed-process.js";
import { REPO_ROOT } from "../test/support/test-assets.js";

const GUESTS = Number(process.env.GUEST_BENCH_GUESTS ?? 1000);
const SECONDS = Number(process.env.GUEST_BENCH_SECONDS ?? 30);
const INTERVAL_MS = Number(process.env.GUEST_BENCH_INTERVAL_MS ?? 1000);
const WARMUP_MS = 5000;
const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/** One simulated guest: a chardev-like listening socket and the guest agent's answers. */
class SimGuest {
  challenges = 0;
  sessions = 0;
  private server: Server | undefined;

  constructor(
    readonly id: string,
    readonly path: string,
  ) {}

  async listen(): Promise<void> {
    this.server = createServer((s) => this.serve(s));
    await new Promise<void>((resolve, reject) => {
      this.server?.once("error", reject);
      this.server?.listen(this.path, () => resolve());
    });
  }

  close(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private serve(s: Socket): void {
    s.setEncoding("utf8");
    s.on("error", () => undefined);
    let buffered = "";
    const send = (type: string, body: Record<string, unknown>): boolean => s.write(`${JSON.stringify({ v: 1, group: "heartbeat", type, body })}\n`);
    send("init", { agent: "bench/1", bootId: randomBytes(16).toString("hex"), groups: ["heartbeat"], intervalMs: INTERVAL_MS });
    s.on("data", (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const m = JSON.parse(buffered.slice(0, nl)) as { type: string; body: { seq?: number; nonce?: string } };
        buffered = buffered.slice(nl + 1);
        if (m.type === "init-ack") this.sessions++;
        if (m.type === "challenge") {
          this.challenges++;
          send("response", { seq: m.body.seq, nonce: m.body.nonce, health: "healthy" });
        }
      }
    });
  }
}

/** utime + stime of a process in seconds, and its resident set in bytes (Linux /proc). */
function usage(pid: number): { cpuS: number; rssBytes: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpuS = (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // fields 14 and 15 of stat
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return { cpuS, rssBytes: Number(rss?.[1] ?? 0) * 1024 };
}

/** The soft limit on open files of this process (each guest costs two descriptors here). */
function openFileLimit(): number {
  const line = readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith("Max open files"));
  return Number(line?.split(/\s+/)[3] ?? 1024);
}

export async function benchGuestAgent(): Promise<void> {
  if (openFileLimit() < 2 * GUESTS + 200) throw new Error(`open files limit ${openFileLimit()} is below ${2 * GUESTS + 200}: raise it (ulimit -n) for ${GUESTS} guests`);
  const dir = mkdtempSync(join(tmpdir(), "vmk-bench-guests-"));
  const clock = new SystemClock();
  const token = randomBytes(16).toString("hex");
  writeFileSync(join(dir, "tokens"), `${token}\n`);
  writeFileSync(join(dir, "agent-token"), token);
  writeFileSync(join(dir, "hb.key"), `bench:${randomBytes(32).toString("base64")}\n`);
  const table = new AgentReportTable();
  const server = new AgentReportServer({ host: "127.0.0.1", port: 0, insecureHttp: true, tokens: new TokenSet(join(dir, "tokens")), table, clock, log: silentLogger(), metrics: prometheusReceiverMetrics(new Registry()) });
  const stop = new AbortController();
  const bound = await server.start(stop.signal);
  const guests: SimGuest[] = [];
  for (let i = 0; i < GUESTS; i++) {
    const g = new SimGuest(randomUUID(), join(dir, `g${i}.sock`));
    await g.listen();
    guests.push(g);
  }
  writeFileSync(join(dir, "channels"), `${guests.map((g) => `${g.id} ${g.path}`).join("\n")}\n`);
  // The agent needs a descriptor per guest too: started through bash to raise its limit.
  const agentArgs = [
    join(REPO_ROOT, "dist/src/cli/vmkeeper.js"), "agent", "--cloud=bench", "--host=compute-1", `--operator-targets=127.0.0.1:${await freeUdpPort()}`, `--key-file=${join(dir, "hb.key")}`,
    "--listen-address=127.0.0.1:0", "--health-addr=127.0.0.1:0", `--report-endpoints=http://127.0.0.1:${bound.port}/v1/reports`, "--report-allow-http=true",
    `--report-token-file=${join(dir, "agent-token")}`, "--libvirt-uri=off", `--guest-channels-file=${join(dir, "channels")}`, `--guest-interval-ms=${INTERVAL_MS}`,
    "--server-group-messaging=false", "--log-level=warn",
  ];
  const agent = new ManagedProcess("vmkeeper-agent", "bash", ["-c", `ulimit -n ${Math.max(4096, 2 * GUESTS + 512)} 2>/dev/null; exec "$0" "$@"`, process.execPath, ...(process.env.GUEST_BENCH_CPU_PROF_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.GUEST_BENCH_CPU_PROF_DIR}`] : []), ...agentArgs], join(dir, "agent.log"));
  agent.start();
  try {
    await eventually(() => assert.ok(guests.every((g) => g.challenges > 0), `all ${GUESTS} guests to be challenged`), 120_000);
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    const pid = agent.pid ?? 0;
    const before = usage(pid);
    const answeredBefore = guests.reduce((n, g) => n + g.challenges, 0);
    const t0 = performance.now();
    let maxRss = before.rssBytes;
    while (performance.now() - t0 < SECONDS * 1000) {
      await new Promise((r) => setTimeout(r, 1000));
      maxRss = Math.max(maxRss, usage(pid).rssBytes);
    }
    const after = usage(pid);
    const elapsedS = (performance.now() - t0) / 1000;
    const answered = guests.reduce((n, g) => n + g.challenges, 0) - answeredBefore;
    const states = new Map<string, number>();
    for (const g of guests) {
      const s = table.get(g.id)?.guestHealth?.state ?? "none";
      states.set(s, (states.get(s) ?? 0) + 1);
    }
    const reconnects = guests.reduce((n, g) => n + Math.max(0, g.sessions - 1), 0);
    const cpuPct = ((after.cpuS - before.cpuS) / elapsedS) * 100;
    console.log(`\nnode agent with ${GUESTS} simulated guests at ${INTERVAL_MS} ms: ${elapsedS.toFixed(1)} s measured after a ${WARMUP_MS / 1000} s warm-up`);
    console.log(`  challenges answered: ${answered} = ${(answered / elapsedS).toFixed(0)}/s (every session alive: ${((GUESTS * 1000) / INTERVAL_MS).toFixed(0)}/s); sessions re-started: ${reconnects}`);
    console.log(`  guest health at the operator: ${[...states].map(([k, v]) => `${k} ${v}`).join(", ")}`);
    console.log(`  agent CPU: ${cpuPct.toFixed(2)} % of one core (user + sys, /proc/${pid}/stat); RSS ${(after.rssBytes / 2 ** 20).toFixed(1)} MiB (max ${(maxRss / 2 ** 20).toFixed(1)} MiB)`);
    console.log(`  target: under 10 % of one core — ${cpuPct < 10 ? "met" : "NOT met"}`);
  } finally {
    await agent.stop();
    stop.abort();
    await Promise.all(guests.map((g) => g.close()));
  }
}

if (import.meta.url === `file://${process.argv[1] ?? ""}`) {
  benchGuestAgent().then(
    () => process.exit(0), // the guests' listening sockets are closed; nothing else to wait for
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
