import type http from "node:http";
import { InstancesByHost } from "./instances-by-host.js";
import type { OperatorToAgent } from "./link-messages.js";

interface Stream {
  res: http.ServerResponse;
}

/**
 * The open `GET /v1/sgm/stream` responses of the node agents (on every replica) and the
 * guests each agent last said it can reach. An instance is reachable through the host whose
 * agent listed it most recently while that agent's stream is open.
 */
export class AgentLinks {
  private readonly streams = new Map<string, Set<Stream>>();
  private readonly guests = new InstancesByHost();
  private readonly listeners = new Set<() => void>();
  private readonly opens = new Map<string, number>();

  /** Registers a stream; it is dropped when the response closes. */
  open(host: string, res: http.ServerResponse, hello: OperatorToAgent): void {
    const s: Stream = { res };
    let set = this.streams.get(host);
    if (!set) {
      set = new Set();
      this.streams.set(host, set);
    }
    set.add(s);
    this.opens.set(host, (this.opens.get(host) ?? 0) + 1);
    res.on("close", () => {
      const current = this.streams.get(host);
      current?.delete(s);
      if (current?.size === 0) this.streams.delete(host);
      this.changed();
    });
    write(res, hello);
    this.changed();
  }

  /** Replaces the list of guests an agent reaches. */
  setGuests(host: string, instances: readonly string[]): void {
    if (this.guests.set(host, instances)) this.changed();
  }

  /** The host whose agent has a session with the instance's guest, while its stream is open. */
  routeOf(instanceId: string): string | undefined {
    const host = this.guests.hostOf(instanceId);
    return host !== undefined && this.streams.has(host) ? host : undefined;
  }

  /** How many streams the host's agent has opened on this replica (a reconnect changes it). */
  generation(host: string): number {
    return this.opens.get(host) ?? 0;
  }

  hasStream(host: string): boolean {
    return (this.streams.get(host)?.size ?? 0) > 0;
  }

  connected(instanceId: string): boolean {
    return this.routeOf(instanceId) !== undefined;
  }

  /** Writes one message on every stream of the host; false when it has none. */
  send(host: string, m: OperatorToAgent): boolean {
    const set = this.streams.get(host);
    if (!set || set.size === 0) return false;
    for (const s of set) write(s.res, m);
    return true;
  }

  /** Writes to every open stream (keep-alive pings). */
  broadcast(m: OperatorToAgent): void {
    for (const set of this.streams.values()) for (const s of set) write(s.res, m);
  }

  get streamCount(): number {
    let n = 0;
    for (const set of this.streams.values()) n += set.size;
    return n;
  }

  /** Called on every change of reachability (stream opened or closed, guest list changed). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Ends every stream (operator stopping). */
  closeAll(): void {
    for (const set of this.streams.values()) for (const s of set) s.res.end();
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}

function write(res: http.ServerResponse, m: OperatorToAgent): void {
  if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify(m)}\n`);
}
