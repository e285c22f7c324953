import { createConnection, type Socket } from "node:net";
import type { Clock } from "../util/clock.js";
import { HostSession, type ActionRequest, type HostEvent, type HostOutput, type HostSessionOptions, type HostSessionSettings } from "./host-session.js";
import type { SgmMessage } from "./guest-pdu.js";
import { LineFramer } from "./line-framer.js";

export interface SocketHostSessionOptions extends HostSessionOptions {
  clock: Clock;
  /** Called for every session event, in order. */
  onEvent: (event: HostEvent) => void;
  /** Called once when the socket has closed (the guest side or QEMU went away). */
  onClose?: () => void;
}

/**
 * Drives one HostSession over a stream socket (the QEMU chardev unix socket of the VM's
 * `org.vmkeeper.heartbeat.0` port): frames incoming bytes, feeds the session, writes what
 * it sends and wakes it at its next deadline on the injected clock.
 */
export class SocketHostSession {
  readonly session: HostSession;
  private readonly framer = new LineFramer();
  private readonly clock: Clock;
  private readonly onEvent: (event: HostEvent) => void;
  /** The pending wake-up: its deadline and how to cancel it. A later deadline reuses it (it fires early and re-arms). */
  private armed: { atMs: number; cancel: () => void } | undefined;
  private isClosed = false;

  constructor(
    private readonly socket: Socket,
    options: SocketHostSessionOptions,
  ) {
    this.session = new HostSession(options);
    this.clock = options.clock;
    this.onEvent = options.onEvent;
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", () => undefined); // "close" follows and is what we act on
    socket.on("close", () => {
      this.isClosed = true;
      this.disarm();
      options.onClose?.();
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Sends an action-notify; the result arrives later as a "vote" event. */
  notifyAction(request: ActionRequest): void {
    this.apply(this.session.notifyAction(request, this.clock.monotonicMs()));
  }

  /** New host settings; an active session is negotiated again on this socket (HostSession.reconfigure). */
  reconfigure(settings: HostSessionSettings): void {
    this.apply(this.session.reconfigure(settings, this.clock.monotonicMs()));
  }

  /** Sends an `sgm` message; false when the session has not negotiated the group or the socket is gone. */
  sendSgm(message: SgmMessage): boolean {
    const out = this.session.sendSgm(message);
    if (out.send.length === 0 || this.isClosed || !this.socket.writable) return false;
    this.apply(out);
    return true;
  }

  /** Sends exit and closes the socket. */
  stop(reason: string): void {
    this.apply(this.session.stop(reason));
    this.disarm();
    this.socket.end();
  }

  private onData(chunk: Buffer): void {
    const now = this.clock.monotonicMs();
    const out: HostOutput = { send: [], events: [] };
    for (const frame of this.framer.push(chunk)) {
      if (frame.kind === "oversize") {
        this.session.recordOversize();
        continue;
      }
      const o = this.session.receiveLine(frame.line, now);
      out.send.push(...o.send);
      out.events.push(...o.events);
    }
    this.apply(out);
  }

  private apply(out: HostOutput): void {
    if (!this.isClosed && out.send.length > 0 && this.socket.writable) this.socket.write(out.send.join(""));
    for (const event of out.events) this.onEvent(event);
    this.arm();
  }

  /**
   * Makes sure a wake-up is pending no later than the session's next deadline. Most calls
   * move the deadline later (a response arrived: the next one is the next challenge), so a
   * pending wake-up is kept and simply fires early — `tick` then has nothing to do and arms
   * the next one. Only an earlier deadline replaces it. With a thousand sessions per agent
   * this keeps timers at about two per interval per guest, each a bare `setTimeout`.
   */
  private arm(): void {
    const next = this.session.nextDeadlineMs();
    if (next === undefined || this.isClosed) return;
    if (this.armed && this.armed.atMs <= next) return;
    this.armed?.cancel();
    const armed = {
      atMs: next,
      cancel: this.clock.schedule(Math.max(0, next - this.clock.monotonicMs()), () => {
        if (this.armed !== armed || this.isClosed) return;
        this.armed = undefined;
        this.apply(this.session.tick(this.clock.monotonicMs()));
      }),
    };
    this.armed = armed;
  }

  private disarm(): void {
    this.armed?.cancel();
    this.armed = undefined;
  }
}

/** Connects to a unix socket (e.g. the libvirt channel's path) and drives a session on it. */
export function connectHostSession(path: string, options: SocketHostSessionOptions): Promise<SocketHostSession> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(new SocketHostSession(socket, options));
    });
  });
}
