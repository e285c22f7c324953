/**
 * The vocabulary of guest-level corrective actions: what the host agent reported about one
 * instance (guest heartbeat health, libvirt lifecycle events), the protecting policy's
 * settings, and what Nova says of the instance. Plain data: the guest-actions controller
 * fills it, the pure planner decides. Times are wall-clock milliseconds.
 */
import type { NovaActionRecord, PolicyMode } from "../instance/instance-recovery-model.js";

export type GuestActionChoice = "Log" | "Reboot" | "Stop" | "None";

/** What the agent reported that may call for an action. */
export type GuestTrigger =
  | { source: "GuestHealth"; state: "Unresponsive" | "Unhealthy"; reason?: string; host: string; atMs: number }
  | { source: "DomainEvent"; event: "Crashed" | "StoppedUnrequested" | "GuestShutdown" | "PausedIOError" | "WatchdogFired"; detail: string; host: string; atMs: number };

/** One policy's settings for guest-level actions, defaults applied. */
export interface GuestPolicySettings {
  /** `namespace/name`. */
  policy: string;
  mode: PolicyMode;
  paused: boolean;
  guest: { enabled: boolean; action: GuestActionChoice; minUptimeMs: number };
  app: { enabled: boolean; action: GuestActionChoice; gracePeriodMs: number };
  vm: { enabled: boolean; crashAction: "Restart" | "Notify" | "None"; unrequestedStopAction: "Restart" | "Notify" | "None"; guestShutdownAction: "Honour" | "Restart" };
  maxRecoveries: number;
  windowMs: number;
}

/** The instance as Nova sees it now. */
export interface GuestInstanceFacts {
  id: string;
  name: string;
  /** Nova's status: ACTIVE, SHUTOFF, ERROR, PAUSED, ... */
  status: string;
  taskState: string | null;
  locked: boolean;
  lockedReason?: string;
  /** nova-compute host now. */
  host?: string;
  /** Newest first. */
  actions: NovaActionRecord[];
}

/** The instance's host, as the host workflow sees it. */
export interface GuestHostFacts {
  maintenance: boolean;
  health?: string;
  openIncident?: string;
}

export interface GuestActionInput {
  nowMs: number;
  trigger: GuestTrigger;
  instance: GuestInstanceFacts;
  /** The protecting policy; undefined when no policy protects the instance. */
  policy: GuestPolicySettings | undefined;
  host?: GuestHostFacts;
  /** When the agent last saw the domain start (wall-clock ms). */
  startedAtMs?: number;
  selfUserId?: string;
}

export type NovaGuestAction = "HardReboot" | "Stop";

/** Event reasons of guest-level actions (constants: users match on them). */
export const GuestEventReason = {
  GuestUnresponsive: "GuestUnresponsive",
  GuestUnhealthy: "GuestUnhealthy",
  AppUnhealthy: "AppUnhealthy",
  GuestRebooted: "GuestRebooted",
  GuestStopped: "GuestStopped",
  GuestActionSkipped: "GuestActionSkipped",
  GuestActionFailed: "GuestActionFailed",
  GuestActionRefused: "GuestActionRefused",
  DomainCrashed: "DomainCrashed",
  DomainStoppedUnrequested: "DomainStoppedUnrequested",
  DomainPausedIOError: "DomainPausedIOError",
  GuestWatchdogFired: "GuestWatchdogFired",
} as const;
export type GuestEventReason = (typeof GuestEventReason)[keyof typeof GuestEventReason];

export interface PlannedGuestEvent {
  type: "Normal" | "Warning";
  reason: GuestEventReason;
  message: string;
}

/**
 * The decision for one trigger:
 * - Act: send `action` to Nova (then record `actedEvent`, or GuestActionFailed).
 * - Report: record the events only (Log, NotifyOnly, skipped actions).
 * - Wait: decide again at `untilMs` (minUptime, a task in progress); nothing recorded.
 * - Done: nothing to do for this trigger (the epoch is consumed).
 */
export type GuestActionPlan =
  | { kind: "Act"; action: NovaGuestAction; events: PlannedGuestEvent[]; actedEvent: PlannedGuestEvent; metricAction: string; line: string }
  | { kind: "Report"; events: PlannedGuestEvent[]; metric?: { action: string; result: string }; line: string }
  | { kind: "Wait"; untilMs: number; line: string }
  | { kind: "Done"; line: string };
