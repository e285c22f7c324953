import { createConnection, type Socket } from "node:net";
import { dialablePath } from "./short-socket-path.js";
import type { HostCounters } from "../../guest-heartbeat/host-counters.js";
import type { SgmMessage } from "../../guest-heartbeat/guest-pdu.js";
import type { ActionRequest, GuestHealth, HostEvent, HostSessionSettings, VoteResult } from "../../guest-heartbeat/host-session.js";
import { SocketHostSession } from "../../guest-heartbeat/socket-host-session.js";
import type { Clock } from "../../util/clock.js";
import type { Logger } from "../../util/logger.js";
import type { GuestChannel, GuestChannelStatus } from "./guest-channel.js";
import { reconnectDelayMs, type ReconnectPolicy } from "./reconnect-delay.js";

/** The host's side of the heartbeat session parameters (negotiated upwards by the guest). */
export interface GuestSessionSettings {
  intervalMs: number;
  threshold: number;
}

export interface GuestChannelRunnerOptions {
  channel: GuestChannel;
  clock: Clock;
  log: Logger;
  session: HostSessionSettings;
  reconnect: ReconnectPolicy;
  /** Longest wait for the final `exit` line to drain when the channel is stopped. */
  closeGraceMs: number;
  /** A health event of a session, with the parameters that session negotiated. */
  onHealth: (health: GuestHealth, negotiated: GuestSessionSettings) => void;
  /** The guest answered (or did not) an action-notify sent with `notifyAction`. */
  onVote?: (result: VoteResult) => void;
  /** A connection attempt finished. */
  onConnect: (connected: boolean) => void;
  /** A session's socket closed; its counters are final. */
  onSessionClosed: (counters: Readonly<HostCounters>) => void;
  /** Groups the host announces (default heartbeat only); with `sgm`, sgm lines go to `onSgm`. */
  groups?: readonly string[];
  onSgm?: (message: SgmMessage) => void;
  /** Whether a session with the `sgm` group is active, on every change. */
  onSgmSession?: (active: boolean) => void;
}

interface LiveSession {
  host: SocketHostSession;
  socket: Socket;
}

/**
 * Keeps one channel connected: dials the chardev socket, drives a SocketHostSession on it
 * until the socket closes, and dials again with a doubling delay. Never throws.
 */
export class GuestChannelRunner {
  private readonly stopper = new AbortController();
  private live: LiveSession | undefined;
  private lastHealth: GuestHealth = { state: "Unknown" };
  private failures = 0;
  private loopDone: Promise<void> = Promise.resolve();
  private settings: HostSessionSettings;

  constructor(private readonly options: GuestChannelRunnerOptions) {
    this.settings = { ...options.session };
  }

  /** The host settings sessions use now. */
  get currentSettings(): HostSessionSettings {
    return { ...this.settings };
  }

  /**
   * Takes new host settings: later sessions start with them and a live session is
   * negotiated again at once (on the same socket; the guest re-sends init).
   */
  reconfigure(settings: HostSessionSettings): void {
    const s = this.settings;
    if (s.intervalMs === settings.intervalMs && s.threshold === settings.threshold && s.unhealthyThreshold === settings.unhealthyThreshold && s.appUnhealthyThreshold === settings.appUnhealthyThreshold) return;
    this.settings = { ...settings };
    this.options.log.info({ instanceUuid: this.options.channel.instanceUuid, ...settings }, "guest heartbeat settings changed");
    this.live?.host.reconfigure(this.settings);
  }

  /**
   * Asks the guest to vote on a pending corrective action; the outcome arrives through
   * `onVote` (NoSession at once without an active session).
   */
  notifyAction(request: ActionRequest): void {
    const live = this.live;
    if (!live) {
      this.options.onVote?.({ actionId: request.actionId, action: request.action, outcome: "NoSession" });
      return;
    }
    try {
      live.host.notifyAction(request);
    } catch (err: unknown) {
      // Only an action id already pending gets here (the operator validated the rest): its
      // outcome is on the way, a second ask adds nothing.
      this.options.log.debug({ instanceUuid: this.options.channel.instanceUuid, actionId: request.actionId, err: err instanceof Error ? err.message : String(err) }, "action-notify not sent");
    }
  }

  get channel(): GuestChannel {
    return this.options.channel;
  }

  start(): void {
    this.loopDone = this.loop();
  }

  status(): GuestChannelStatus {
    return {
      ...this.options.channel,
      connected: this.live !== undefined,
      sessionState: this.live ? this.live.host.session.state : "Disconnected",
      health: this.lastHealth,
      connectFailures: this.failures,
    };
  }

  /** Counters of the session on the open socket, if any. */
  liveCounters(): Readonly<HostCounters> | undefined {
    return this.live?.host.session.counters();
  }

  /** Sends an sgm message to the guest; false without a session that negotiated the group. */
  sendSgm(message: SgmMessage): boolean {
    return this.live?.host.sendSgm(message) ?? false;
  }

  /** Ends monitoring: sends `exit` on an active session, closes the socket, stops retrying. */
  async stop(reason: string): Promise<void> {
    if (this.stopper.signal.aborted) return this.loopDone;
    this.stopper.abort(new Error(reason));
    const live = this.live;
    if (live) this.closeLive(live, reason);
    await this.loopDone;
  }

  private async loop(): Promise<void> {
    const signal = this.stopper.signal;
    let attempt = 0;
    while (!signal.aborted) {
      const socket = await this.connect();
      if (socket) {
        attempt = 0;
        await this.runSession(socket);
      }
      if (signal.aborted) break;
      try {
        await this.options.clock.sleep(reconnectDelayMs(attempt++, this.options.reconnect), signal);
      } catch {
        break;
      }
    }
  }

  /** Dials the socket; undefined when it is missing, refuses, or the runner stopped meanwhile. */
  private connect(): Promise<Socket | undefined> {
    const { socketPath, instanceUuid } = this.options.channel;
    return new Promise((resolve) => {
      let socket: Socket;
      try {
        socket = createConnection(dialablePath(socketPath));
      } catch (err: unknown) {
        this.failures++;
        if (this.failures === 1) this.options.log.warn({ instanceUuid, socketPath, err: err instanceof Error ? err.message : String(err) }, "guest channel cannot be dialled; retrying");
        this.options.onConnect(false);
        resolve(undefined);
        return;
      }
      socket.once("error", (err: Error) => {
        this.failures++;
        if (this.failures === 1) this.options.log.debug({ instanceUuid, socketPath, err: err.message }, "guest channel not reachable; retrying");
        this.options.onConnect(false);
        resolve(undefined);
      });
      socket.once("connect", () => {
        socket.removeAllListeners("error");
        if (this.stopper.signal.aborted) {
          socket.destroy();
          resolve(undefined);
          return;
        }
        this.failures = 0;
        this.options.onConnect(true);
        this.options.log.info({ instanceUuid, socketPath }, "guest channel connected");
        resolve(socket);
      });
    });
  }

  /** Runs a host session on the socket; resolves when the socket closes or the runner stops. */
  private runSession(socket: Socket): Promise<void> {
    const { clock } = this.options;
    const session = this.settings;
    const signal = this.stopper.signal;
    return new Promise((resolve) => {
      const onAbort = (): void => resolve();
      const live: LiveSession = {
        socket,
        host: new SocketHostSession(socket, {
          clock,
          ...session,
          ...(this.options.groups ? { groups: [...this.options.groups] } : {}),
          onEvent: (event) => this.onEvent(event, live),
          onClose: () => {
            signal.removeEventListener("abort", onAbort);
            if (this.live === live) this.live = undefined;
            this.options.onSgmSession?.(false);
            this.options.onSessionClosed(live.host.session.counters());
            this.options.log.info({ instanceUuid: this.options.channel.instanceUuid }, "guest channel closed");
            resolve();
          },
        }),
      };
      this.live = live;
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  private onEvent(event: HostEvent, live: LiveSession): void {
    const instanceUuid = this.options.channel.instanceUuid;
    switch (event.type) {
      case "health":
        this.lastHealth = event.health;
        this.options.onHealth(event.health, live.host.session.negotiated);
        return;
      case "session-started":
        this.options.log.info({ instanceUuid, bootId: event.bootId, agent: event.agent, intervalMs: event.intervalMs, threshold: event.threshold }, "guest heartbeat session started");
        this.options.onSgmSession?.(live.host.session.sgmActive);
        return;
      case "session-ended":
        this.options.log.info({ instanceUuid, by: event.by, reason: event.reason }, "guest heartbeat session ended");
        this.options.onSgmSession?.(false);
        return;
      case "sgm":
        this.options.onSgm?.(event.message);
        return;
      case "vote":
        this.options.onVote?.(event.result);
        return;
    }
  }

  /** Sends exit, then closes the socket once the line has drained (or after the grace time). */
  private closeLive(live: LiveSession, reason: string): void {
    live.host.stop(reason);
    const { socket } = live;
    if (socket.destroyed) return;
    if (socket.writableFinished) {
      socket.destroy();
      return;
    }
    const grace = new AbortController();
    socket.once("finish", () => {
      grace.abort();
      socket.destroy();
    });
    socket.once("close", () => grace.abort());
    void this.options.clock.sleep(this.options.closeGraceMs, grace.signal).then(
      () => socket.destroy(),
      () => undefined,
    );
  }
}
