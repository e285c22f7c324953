// npm run bench:sgm — server-group messaging on loopback: a 16-member group (4 compute hosts ×
// 4 guests). Real `vmkeeper agent` processes (one per host) and 16 real `vmkeeper-guest`
// processes, each on a virtio-serial stand-in (two unix sockets piped), talk to the operator's
// report server with its server-group messaging routes and router in this process. Phase 1:
// broadcast delivery latency, application to application (each of 16 senders in turn, one
// broadcast at a time, every delivery to the 15 others timed on this process's clock):
// p50/p99/max. Phase 2: throughput until rate limiting: one member sends at 100..2000
// broadcasts/s for 2 s each against a limit of 500/s (burst 50); delivered rate and refusals.
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { prometheusReceiverMetrics } from "../src/agent-reports/receiver-metrics.js";
import { AgentReportServer } from "../src/agent-reports/report-server.js";
import { AgentReportTable } from "../src/agent-reports/report-table.js";
import { TokenSet } from "../src/agent-reports/token-set.js";
import { AgentLinks } from "../src/server-group-messaging/agent-links.js";
import { SgmEndpoint } from "../src/server-group-messaging/sgm-endpoint.js";
import { SgmRouter, type GroupSettings } from "../src/server-group-messaging/sgm-router.js";
import { SystemClock } from "../src/util/clock.js";
import { silentLogger } from "../src/util/logger.js";
import { eventually } from "../test/support/eventually.js";
import { freeUdpPort } from "../test/support/free-udp-port.js";
import { ManagedProcess } from "../test/support/managed-process.js";
import { ensureGuestBinary, GuestApp, startGuestProcess, VirtioSerialPair } from "../test/support/sgm-guests.js";
import { REPO_ROOT } from "../test/support/test-assets.js";

const HOSTS = 4;
const PER_HOST = 4;
const ROUNDS = 20;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

async function main(): Promise<void> {
  await ensureGuestBinary();
  const dir = mkdtempSync(join(tmpdir(), "vmk-bench-sgm-"));
  const clock = new SystemClock();
  const log = silentLogger();
  const token = randomBytes(16).toString("hex");
  writeFileSync(join(dir, "tokens"), `${token}\n`);
  writeFileSync(join(dir, "agent-token"), token);
  writeFileSync(join(dir, "hb.key"), `bench:${randomBytes(32).toString("base64")}\n`);
  const links = new AgentLinks();
  const router = new SgmRouter({ links, clock, log, metrics: { message: () => undefined, delivered: () => undefined, latency: () => undefined }, identity: "bench" });
  const server = new AgentReportServer({
    host: "127.0.0.1", port: 0, insecureHttp: true, tokens: new TokenSet(join(dir, "tokens")), table: new AgentReportTable(), clock, log, metrics: prometheusReceiverMetrics(new Registry()),
    sgm: new SgmEndpoint({ links, router, identity: "bench", metrics: { refused: () => undefined, invalidMessage: () => undefined } }),
  });
  const stop = new AbortController();
  const bound = await server.start(stop.signal);
  const members: { id: string; host: string; n: number }[] = [];
  for (let h = 1; h <= HOSTS; h++) for (let k = 0; k < PER_HOST; k++) members.push({ id: randomUUID(), host: `compute-${h}`, n: members.length });
  const settings = (rate: number, burst: number): GroupSettings => ({ broadcast: true, notifications: true, notifyStates: [], statusQuery: true, maxPayloadBytes: 3050, messagesPerSecond: rate, burst });
  const view = (s: GroupSettings) => ({ group: { id: randomUUID(), name: "bench", policy: "anti-affinity" }, settings: s, members: members.map((m) => ({ instanceId: m.id, name: `vm-${m.n}`, host: m.host, state: "Active" as const })) });
  router.setGroup("bench/bench", view(settings(100, 100)));
  router.active = true;

  const procs: ManagedProcess[] = [];
  const pairs: VirtioSerialPair[] = [];
  for (const m of members) {
    const pair = new VirtioSerialPair(join(dir, `${m.n}-h.sock`), join(dir, `${m.n}-g.sock`));
    await pair.start();
    pairs.push(pair);
  }
  for (let h = 1; h <= HOSTS; h++) {
    const host = `compute-${h}`;
    writeFileSync(join(dir, `${host}.ch`), members.filter((m) => m.host === host).map((m) => `${m.id} ${join(dir, `${m.n}-h.sock`)}`).join("\n"));
    const p = new ManagedProcess("vmkeeper-agent", process.execPath, [
      join(REPO_ROOT, "dist/src/cli/vmkeeper.js"), "agent", "--cloud=bench", `--host=${host}`, `--operator-targets=127.0.0.1:${await freeUdpPort()}`, `--key-file=${join(dir, "hb.key")}`,
      "--listen-address=127.0.0.1:0", "--health-addr=127.0.0.1:0", `--report-endpoints=http://127.0.0.1:${bound.port}/v1/reports`, "--report-allow-http=true",
      `--report-token-file=${join(dir, "agent-token")}`, "--libvirt-uri=off", `--guest-channels-file=${join(dir, `${host}.ch`)}`, "--log-level=warn",
    ], join(dir, `${host}.log`));
    p.start();
    procs.push(p);
  }
  for (const m of members) procs.push(startGuestProcess(join(dir, `${m.n}-g.sock`), join(dir, `${m.n}-app.sock`), join(dir, `guest-${m.n}.log`)));
  await eventually(() => assert.ok(members.every((m) => links.connected(m.id)), "every member connected"), 60_000, 20);
  const apps: GuestApp[] = [];
  for (const m of members) {
    for (;;) {
      try {
        apps.push(await GuestApp.connect(join(dir, `${m.n}-app.sock`)));
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const a = apps[apps.length - 1] as GuestApp;
    await a.call({ op: "register", app: `bench-${m.n}` });
    await a.call({ op: "subscribe" });
  }

  // Phase 1: latency.
  const latencies: number[] = [];
  const received = (tag: string): number => apps.reduce((n, a) => n + a.pushes.filter((p) => p.event === "sgm-broadcast" && String(p.payload).startsWith(tag)).length, 0);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, a] of apps.entries()) {
      const tag = `lat ${round} ${i} `;
      const sentAt = performance.now();
      a.send({ op: "broadcast", payload: `${tag}${"x".repeat(200)}` });
      await eventually(() => assert.equal(received(tag), members.length - 1), 5000, 20);
      for (const b of apps) for (const p of b.pushes) if (p.event === "sgm-broadcast" && String(p.payload).startsWith(tag)) latencies.push((p.receivedAt as number) - sentAt);
    }
    for (const a of apps) a.pushes.length = 0;
  }
  latencies.sort((x, y) => x - y);

  // Phase 2: throughput until rate limiting: one member sends at rising paced rates against a
  // limit of 500 messages/s (burst 50); per step, what got through and what was refused.
  router.setGroup("bench/bench", view(settings(500, 50)));
  const sender = apps[0] as GuestApp;
  const steps: { rate: number; sent: number; deliveredPerSecond: number; broadcastsPerSecond: number; rateLimited: number }[] = [];
  for (const rate of [100, 250, 500, 1000, 2000]) {
    for (const a of apps) a.pushes.length = 0;
    await new Promise((r) => setTimeout(r, 300)); // bucket refills
    const perTick = rate / 100;
    const t0 = performance.now();
    let sent = 0;
    for (let tick = 0; tick < 200; tick++) {
      const due = Math.round((tick + 1) * perTick) - Math.round(tick * perTick);
      for (let i = 0; i < due; i++) sender.send({ op: "broadcast", payload: `thr ${rate} ${sent++} ${"y".repeat(100)}` });
      const wait = t0 + (tick + 1) * 10 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await new Promise((r) => setTimeout(r, 500));
    const elapsed = 2;
    const got = apps.slice(1).reduce((n, a) => n + a.pushes.filter((p) => p.event === "sgm-broadcast").length, 0);
    const limited = sender.pushes.filter((p) => p.event === "sgm-error" && p.code === "rate_limited").length;
    steps.push({ rate, sent, deliveredPerSecond: Math.round(got / elapsed), broadcastsPerSecond: Math.round(got / (members.length - 1) / elapsed), rateLimited: limited });
  }
  const result = {
    members: members.length, hosts: HOSTS, broadcasts: ROUNDS * members.length, deliveries: latencies.length,
    p50Ms: +pct(latencies, 50).toFixed(2), p99Ms: +pct(latencies, 99).toFixed(2), maxMs: +(latencies[latencies.length - 1] ?? NaN).toFixed(2),
    throughput: { limitPerSecond: 500, burst: 50, steps },
  };
  console.log(`server-group messaging, ${members.length} members on ${HOSTS} agents (loopback):`);
  console.log(`  broadcast latency app->app over ${latencies.length} deliveries: p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, max ${result.maxMs} ms (target p99 < 50 ms)`);
  for (const st of steps) console.log(`  one sender at ${st.rate}/s for 2 s (limit 500/s, burst 50): ${st.broadcastsPerSecond} broadcasts/s reach the 15 others (${st.deliveredPerSecond} deliveries/s), ${st.rateLimited} refused rate_limited`);
  console.log(JSON.stringify(result));
  for (const a of apps) a.close();
  for (const p of procs) await p.stop();
  for (const p of pairs) await p.stop();
  stop.abort();
  await server.stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
