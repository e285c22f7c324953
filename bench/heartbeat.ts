// bench:heartbeat: operator-side heartbeat ingest. Signed v1 heartbeats of 2,000 simulated
// hosts go over loopback UDP from a separate sender process (so the receiver process's CPU is
// its own) to one HeartbeatReceiver, for a fixed duration, paced and then as fast as the
// sender can. Prints accepted packets/s, mean CPU µs per packet of the whole receiver process
// (process.cpuUsage: handler, recvmsg, libuv, GC) and drops. A socket-free phase feeding
// pre-encoded packets to handle() gives the handler's own CPU cost.
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Registry } from "prom-client";
import { encodeHeartbeat, type PeerReport } from "../src/heartbeat/heartbeat-codec.js";
import { Keyring, type HeartbeatKey } from "../src/heartbeat/heartbeat-keys.js";
import type { IngestResult } from "../src/heartbeat/heartbeat-metrics.js";
import { HeartbeatReceiver } from "../src/heartbeat/heartbeat-receiver.js";
import { SystemClock } from "../src/util/clock.js";
import { silentLogger } from "../src/util/logger.js";

const KEY: HeartbeatKey = { id: "bench", secret: Buffer.alloc(32, 0x5a) };
const PREVIOUS: HeartbeatKey = { id: "bench-old", secret: Buffer.alloc(32, 0x3c) };

interface SenderPlan {
  port: number;
  hosts: number;
  durationMs: number;
  /** Packets per second; 0 = as fast as the sender can. */
  rate: number;
}

interface SenderResult {
  sent: number;
  sendErrors: number;
  elapsedMs: number;
}

function envInt(name: string, dflt: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v >= 0 && process.env[name] !== undefined && process.env[name] !== "" ? v : dflt;
}

function hostName(i: number): string {
  return `compute-${String(i).padStart(4, "0")}.bench.example.org`;
}

/** Every 10th host reports two unreachable peers, so peer lists are parsed too. */
function peerReport(i: number): PeerReport {
  return i % 10 === 0 ? { heard: 7, unreachable: [hostName(i + 1), hostName(i + 2)], unreachableTotal: 2 } : { heard: 9, unreachable: [], unreachableTotal: 0 };
}

/** Child process: signs and sends heartbeats round-robin over the hosts until the deadline. */
async function runSender(plan: SenderPlan): Promise<SenderResult> {
  const socket = createSocket("udp4");
  const signer = new Keyring([KEY]).signing();
  const boots = Array.from({ length: plan.hosts }, () => randomBytes(16).toString("hex"));
  const seqs = new Array<number>(plan.hosts).fill(0);
  let sent = 0;
  let sendErrors = 0;
  const start = performance.now();
  const deadline = start + plan.durationMs;
  const batch = 64;
  while (performance.now() < deadline) {
    const due = plan.rate > 0 ? Math.floor(((performance.now() - start) * plan.rate) / 1000) - sent : batch;
    if (due <= 0) {
      await new Promise((r) => setTimeout(r, 1));
      continue;
    }
    const now = Date.now();
    for (let k = 0; k < Math.min(due, batch); k++) {
      const i = sent % plan.hosts;
      const buf = encodeHeartbeat({ cloud: "bench", host: hostName(i), bootId: boots[i] ?? "", seq: ++seqs[i]!, sentAtMs: now, intervalMs: 1000, peers: peerReport(i) }, signer);
      socket.send(buf, plan.port, "127.0.0.1", (err) => {
        if (err) sendErrors++;
      });
      sent++;
    }
    await new Promise((r) => setImmediate(r));
  }
  const elapsedMs = performance.now() - start;
  await new Promise<void>((r) => socket.close(() => r()));
  return { sent, sendErrors, elapsedMs };
}

interface Tally {
  results: Map<IngestResult, number>;
  handled: number;
  handlerMs: number;
}

/** Wraps the receiver's handler to count results and time it (synchronous code: wall ≈ CPU). */
function instrument(receiver: HeartbeatReceiver): Tally {
  const tally: Tally = { results: new Map(), handled: 0, handlerMs: 0 };
  const handle = receiver.handle.bind(receiver);
  receiver.handle = (buf, from) => {
    const t0 = performance.now();
    const r = handle(buf, from);
    tally.handlerMs += performance.now() - t0;
    tally.handled++;
    tally.results.set(r, (tally.results.get(r) ?? 0) + 1);
    return r;
  };
  return tally;
}

function newReceiver(bindAddress: string): HeartbeatReceiver {
  return new HeartbeatReceiver({ bindAddress, keyring: new Keyring([KEY, PREVIOUS]), clock: new SystemClock(), log: silentLogger(), registry: new Registry(), receiveBufferBytes: 8 * 1024 * 1024 });
}

/** UDP receive-buffer overflows (system-wide) from /proc/net/snmp; undefined off Linux. */
function rcvbufErrors(): number | undefined {
  try {
    const lines = readFileSync("/proc/net/snmp", "utf8").split("\n").filter((l) => l.startsWith("Udp:"));
    const [head, values] = [lines[0]?.split(/\s+/) ?? [], lines[1]?.split(/\s+/) ?? []];
    const i = head.indexOf("RcvbufErrors");
    return i < 0 ? undefined : Number(values[i]);
  } catch {
    return undefined;
  }
}

function cpuMs(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1000;
}

/** Socket-free floor: pre-encoded packets straight into handle(). */
function inProcessPhase(hosts: number, rounds: number): void {
  const receiver = newReceiver("127.0.0.1:0");
  const signer = new Keyring([KEY]).signing();
  const boots = Array.from({ length: hosts }, () => randomBytes(16).toString("hex"));
  const packets: Buffer[] = [];
  const now = Date.now();
  for (let r = 1; r <= rounds; r++) {
    for (let i = 0; i < hosts; i++) packets.push(encodeHeartbeat({ cloud: "bench", host: hostName(i), bootId: boots[i] ?? "", seq: r, sentAtMs: now, intervalMs: 1000, peers: peerReport(i) }, signer));
  }
  for (const p of packets.slice(0, 20_000)) receiver.handle(p); // JIT warm-up on a throw-away receiver
  const fresh = newReceiver("127.0.0.1:0");
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let accepted = 0;
  for (const p of packets) if (fresh.handle(p) === "accepted") accepted++;
  const wallMs = performance.now() - t0;
  const cpu = cpuMs(process.cpuUsage(cpu0));
  console.log(`in-process handle() (no socket): ${packets.length} packets, ${accepted} accepted, ${((accepted / wallMs) * 1000).toFixed(0)} packets/s, ${((cpu * 1000) / packets.length).toFixed(2)} CPU µs/packet`);
}

async function socketPhase(name: string, plan: Omit<SenderPlan, "port">): Promise<void> {
  const receiver = newReceiver("127.0.0.1:0");
  const tally = instrument(receiver);
  const { port } = await receiver.start();
  const rcv0 = rcvbufErrors();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const child = fork(fileURLToPath(import.meta.url), ["--sender", JSON.stringify({ ...plan, port })], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const sender = await new Promise<SenderResult>((resolve, reject) => {
    child.once("message", (m) => resolve(m as SenderResult));
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`sender exited with ${code}`)));
  });
  await new Promise((r) => setTimeout(r, 300)); // drain the socket buffer
  const wallMs = performance.now() - t0;
  const cpu = cpuMs(process.cpuUsage(cpu0));
  const rcv1 = rcvbufErrors();
  await receiver.stop();
  const accepted = tally.results.get("accepted") ?? 0;
  const rejected = [...tally.results].filter(([r]) => r !== "accepted").map(([r, n]) => `${r} ${n}`);
  const kernelDrops = sender.sent - tally.handled;
  console.log(`\n${name}: ${plan.hosts} hosts, ${(sender.elapsedMs / 1000).toFixed(1)} s, sender ${sender.sent} packets (${((sender.sent / sender.elapsedMs) * 1000).toFixed(0)}/s, ${sender.sendErrors} send errors)`);
  console.log(`  accepted ${accepted} = ${((accepted / sender.elapsedMs) * 1000).toFixed(0)} packets/s; rejected: ${rejected.length > 0 ? rejected.join(", ") : "none"}`);
  console.log(`  dropped before the handler: ${kernelDrops} (${((100 * kernelDrops) / Math.max(1, sender.sent)).toFixed(2)} %)${rcv0 !== undefined && rcv1 !== undefined ? `, UDP RcvbufErrors +${rcv1 - rcv0}` : ""}`);
  const perPacketCpuUs = (cpu * 1000) / Math.max(1, tally.handled);
  console.log(`  receiver process CPU (user+sys) per packet: ${perPacketCpuUs.toFixed(2)} µs (${cpu.toFixed(0)} ms CPU over ${wallMs.toFixed(0)} ms) → ${(1e6 / perPacketCpuUs).toFixed(0)} packets per CPU-second`);
  console.log(`  handler wall time per packet: ${((tally.handlerMs * 1000) / Math.max(1, tally.handled)).toFixed(2)} µs (inflated when the machine is busy: preemption counts)`);
}

async function main(): Promise<void> {
  if (process.argv[2] === "--sender") {
    const result = await runSender(JSON.parse(process.argv[3] ?? "{}") as SenderPlan);
    process.send?.(result);
    return;
  }
  const hosts = envInt("HB_BENCH_HOSTS", 2000);
  const seconds = envInt("HB_BENCH_SECONDS", 5);
  const paced = envInt("HB_BENCH_RATE", 20_000);
  console.log(`heartbeat ingest bench: ${hosts} simulated hosts, Node ${process.version}, ${(await import("node:os")).cpus().length} CPUs`);
  inProcessPhase(hosts, 50);
  await socketPhase(`loopback, paced ${paced}/s`, { hosts, durationMs: seconds * 1000, rate: paced });
  await socketPhase("loopback, sender as fast as it can", { hosts, durationMs: seconds * 1000, rate: 0 });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
