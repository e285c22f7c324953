// bench:sim: the simulator at 2,000 hosts / 40,000 servers under a bounded mixed read workload
// from concurrent loopback clients (in a worker thread, so the server keeps its own event loop).
// Prints requests/s, p50/p99 latency per endpoint and the server process's RSS/heap after load.
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { SystemClock } from "../src/util/clock.js";
import { createSimCloud } from "../src/sim/sim-cloud.js";
import { SimServer } from "../src/sim/sim-server.js";
import { hostName, seedCloud } from "../src/sim/seed-cloud.js";

interface LoadPlan {
  url: string;
  token: string;
  hosts: number;
  serverIds: string[];
  durationMs: number;
  concurrency: number;
}

const KINDS = ["services list", "hypervisor with servers", "servers by host", "server detail"] as const;
type Kind = (typeof KINDS)[number];

interface LoadResult {
  kinds: Record<Kind, { latenciesMs: number[]; errors: number }>;
  elapsedMs: number;
}
/** Mix in percent, same order as KINDS. */
const MIX = [10, 30, 30, 30];

function envInt(name: string, dflt: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

function pickKind(r: number): Kind {
  let acc = 0;
  for (let i = 0; i < KINDS.length; i++) {
    acc += MIX[i] ?? 0;
    if (r * 100 < acc) return KINDS[i] ?? "server detail";
  }
  return "server detail";
}

function pathFor(kind: Kind, plan: LoadPlan, n: number): string {
  const host = hostName(n % plan.hosts);
  if (kind === "services list") return "/v2.1/os-services?binary=nova-compute";
  if (kind === "hypervisor with servers") return `/v2.1/os-hypervisors?hypervisor_hostname_pattern=${host}&with_servers=true`;
  if (kind === "servers by host") return `/v2.1/servers/detail?all_tenants=1&host=${host}`;
  return `/v2.1/servers/${plan.serverIds[n % plan.serverIds.length] ?? ""}`;
}

/** Worker side: `concurrency` loops issuing requests until the deadline. */
async function runLoad(plan: LoadPlan): Promise<LoadResult> {
  const kinds = Object.fromEntries(KINDS.map((k) => [k, { latenciesMs: [] as number[], errors: 0 }])) as LoadResult["kinds"];
  const headers = { "x-auth-token": plan.token, "openstack-api-version": "compute 2.88" };
  const start = performance.now();
  const deadline = start + plan.durationMs;
  let seq = 0;
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const n = seq++;
      const kind = pickKind(((n * 2654435761) >>> 0) / 4294967296);
      const t0 = performance.now();
      try {
        const res = await fetch(`${plan.url}${pathFor(kind, plan, n * 7919)}`, { headers, signal: AbortSignal.timeout(30_000) });
        await res.arrayBuffer();
        if (res.status !== 200) kinds[kind].errors++;
      } catch {
        kinds[kind].errors++;
      }
      kinds[kind].latenciesMs.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: plan.concurrency }, () => loop()));
  return { kinds, elapsedMs: performance.now() - start };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

function report(result: LoadResult, plan: LoadPlan): void {
  const all: number[] = [];
  let errors = 0;
  console.log(`\n${"endpoint".padEnd(26)} ${"requests".padStart(9)} ${"req/s".padStart(8)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)} ${"errors".padStart(7)}`);
  for (const k of KINDS) {
    const r = result.kinds[k];
    const sorted = [...r.latenciesMs].sort((a, b) => a - b);
    all.push(...sorted);
    errors += r.errors;
    console.log(
      `${k.padEnd(26)} ${String(sorted.length).padStart(9)} ${((sorted.length * 1000) / result.elapsedMs).toFixed(0).padStart(8)} ${percentile(sorted, 50).toFixed(2).padStart(8)} ${percentile(sorted, 99).toFixed(2).padStart(8)} ${String(r.errors).padStart(7)}`,
    );
  }
  all.sort((a, b) => a - b);
  console.log(
    `${"all".padEnd(26)} ${String(all.length).padStart(9)} ${((all.length * 1000) / result.elapsedMs).toFixed(0).padStart(8)} ${percentile(all, 50).toFixed(2).padStart(8)} ${percentile(all, 99).toFixed(2).padStart(8)} ${String(errors).padStart(7)}`,
  );
  console.log(`\n${plan.concurrency} concurrent clients for ${(result.elapsedMs / 1000).toFixed(1)} s`);
}

async function main(): Promise<void> {
  const hosts = envInt("SIM_BENCH_HOSTS", 2000);
  const perHost = envInt("SIM_BENCH_SERVERS_PER_HOST", 20);
  const durationMs = envInt("SIM_BENCH_SECONDS", 10) * 1000;
  const concurrency = envInt("SIM_BENCH_CONCURRENCY", 16);
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const cloud = createSimCloud(new SystemClock(), { seed: "bench" });
  const seeded = seedCloud(cloud, { hosts, serversPerHost: perHost, zones: 4 });
  const seedMs = performance.now() - t0;
  const server = new SimServer(cloud);
  const url = await server.start();
  const auth = await fetch(`${url}/v3/auth/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ auth: { identity: { methods: ["password"], password: { user: { name: "admin", domain: { name: "Default" }, password: "admin-secret" } } }, scope: { project: { name: "admin", domain: { name: "Default" } } } } }),
  });
  const token = auth.headers.get("x-subject-token") ?? "";
  const memSeeded = process.memoryUsage();
  console.log(`simulator: ${seeded.hosts} hosts, ${seeded.servers} servers, ${seeded.groups} server groups seeded in ${seedMs.toFixed(0)} ms at ${url}`);
  console.log(`memory after seeding: RSS ${mb(memSeeded.rss)} (process start ${mb(rssBefore)}), heap used ${mb(memSeeded.heapUsed)}`);
  const plan: LoadPlan = { url, token, hosts, serverIds: [...cloud.nova.servers.keys()].filter((_, i) => i % 97 === 0), durationMs, concurrency };
  const worker = new Worker(new URL(import.meta.url), { workerData: plan });
  const result = await new Promise<LoadResult>((resolve, reject) => {
    worker.once("message", (m: LoadResult) => resolve(m));
    worker.once("error", reject);
  });
  await worker.terminate();
  report(result, plan);
  const mem = process.memoryUsage();
  console.log(`server process after load: RSS ${mb(mem.rss)}, heap used ${mb(mem.heapUsed)} / total ${mb(mem.heapTotal)}`);
  await server.stop();
}

if (isMainThread) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
} else {
  runLoad(workerData as LoadPlan).then(
    (r) => parentPort?.postMessage(r),
    (err: unknown) => {
      throw err;
    },
  );
}
