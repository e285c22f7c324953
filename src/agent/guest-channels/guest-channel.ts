import type { GuestHealth } from "../../guest-heartbeat/host-session.js";

/** One VM's heartbeat channel on this host: the unix socket of its QEMU chardev. */
export interface GuestChannel {
  /** Nova instance UUID of the VM. */
  instanceUuid: string;
  /** Unix socket of the chardev behind the VM's `org.vmkeeper.heartbeat.0` port. */
  socketPath: string;
}

/** What the manager knows about one channel right now. */
export interface GuestChannelStatus extends GuestChannel {
  /** The socket is connected (QEMU is there); says nothing about the guest agent. */
  connected: boolean;
  /** Host session state while connected: AwaitInit, Active, Exited. */
  sessionState: "AwaitInit" | "Active" | "Exited" | "Stopped" | "Disconnected";
  /** Last health seen on any session of this channel (kept across reconnects). */
  health: GuestHealth;
  /** Consecutive failed connection attempts since the last successful one. */
  connectFailures: number;
}
