import { createSocket, type Socket } from "node:dgram";
import type { Registry } from "prom-client";
import type { HeartbeatMessage } from "../../../src/heartbeat/heartbeat-codec.js";
import { Keyring, type HeartbeatKey } from "../../../src/heartbeat/heartbeat-keys.js";

export const KEY_A: HeartbeatKey = { id: "k2026a", secret: Buffer.alloc(32, 0xa1) };
export const KEY_B: HeartbeatKey = { id: "k2026b", secret: Buffer.alloc(32, 0xb2) };
export const KEY_C: HeartbeatKey = { id: "other", secret: Buffer.alloc(32, 0xc3) };

export const BOOT_1 = "0123456789abcdef0123456789abcdef";
export const BOOT_2 = "fedcba9876543210fedcba9876543210";

export function keyring(...keys: HeartbeatKey[]): Keyring {
  return new Keyring(keys.length > 0 ? keys : [KEY_A]);
}

export function message(over: Partial<HeartbeatMessage> = {}): HeartbeatMessage {
  return {
    cloud: "lab",
    host: "compute-1",
    bootId: BOOT_1,
    seq: 1,
    sentAtMs: Date.parse("2026-01-01T00:00:00Z"),
    intervalMs: 1000,
    peers: { heard: 0, unreachable: [], unreachableTotal: 0 },
    ...over,
  };
}

/** Counter values of vmkeeper_heartbeats_received_total by result. */
export async function receivedByResult(registry: Registry): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric("vmkeeper_heartbeats_received_total");
  if (!metric) throw new Error("metric not registered");
  const out: Record<string, number> = {};
  for (const v of (await metric.get()).values) out[String(v.labels.result)] = v.value;
  return out;
}

export async function gaugeValue(registry: Registry, name: string): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`${name} not registered`);
  return (await metric.get()).values[0]?.value ?? Number.NaN;
}

/** A loopback UDP client for raw datagrams. */
export async function rawClient(): Promise<{ send(buf: Buffer, port: number): Promise<void>; close(): Promise<void> }> {
  const s: Socket = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  return {
    send: (buf, port) => new Promise<void>((resolve, reject) => s.send(buf, port, "127.0.0.1", (err) => (err ? reject(err) : resolve()))),
    close: () => new Promise<void>((r) => s.close(() => r())),
  };
}
