/**
 * What a node agent (`vmkeeper agent`) tells the operator about its host, besides heartbeats.
 * Shared by the agent's sources (libvirt watcher, guest heartbeat sessions, process checks),
 * its report client (HTTPS to the operator, buffered) and the operator's report receiver.
 * Wire form: JSON, one report per element of `{"reports": AgentReport[]}`; see
 * docs/protocols/agent-reports.md.
 */

/** A libvirt domain lifecycle or watchdog event, already classified. */
export type DomainEventKind =
  /** The QEMU process died or the guest crashed (libvirt: Stopped/Crashed, Crashed/*). */
  | "Crashed"
  /** Stopped without a request from Nova or the agent (libvirt: Stopped/Destroyed or Failed). */
  | "StoppedUnrequested"
  /** The guest shut itself down (libvirt: Stopped/Shutdown after a guest-initiated shutdown). */
  | "GuestShutdown"
  /** Paused because of an I/O error (libvirt: Suspended/IOError). */
  | "PausedIOError"
  /** The guest's watchdog device fired (libvirt watchdog event). */
  | "WatchdogFired"
  /** Started or resumed (libvirt: Started/*, Resumed/*): the domain runs again. */
  | "Started";

export interface DomainEventReport {
  kind: "DomainEvent";
  /** nova-compute service host name of the reporting agent. */
  host: string;
  /** Nova instance UUID (the libvirt domain UUID Nova sets). */
  instanceUuid: string;
  /** libvirt domain name (instance-0000002a). */
  domainName: string;
  event: DomainEventKind;
  /** libvirt's own event and detail words, for humans (e.g. "Stopped Destroyed"). */
  detail: string;
  /** When the agent saw it, RFC 3339. */
  at: string;
}

export type GuestHealthState = "Healthy" | "Unhealthy" | "Unresponsive" | "Exited";

/** A change of a guest's heartbeat health (docs/protocols/guest-heartbeat.md). */
export interface GuestHealthReport {
  kind: "GuestHealth";
  host: string;
  instanceUuid: string;
  state: GuestHealthState;
  /** Unhealthy: the guest's reason; Unresponsive: missed challenges; Exited: the guest's reason. */
  reason?: string;
  /** Negotiated challenge interval and threshold of the session. */
  intervalMs: number;
  threshold: number;
  at: string;
}

/** Host processes the agent checks (nova-compute, libvirtd, ...). A dead nova-compute on a live host never leads to fencing. */
export interface ProcessHealthReport {
  kind: "ProcessHealth";
  host: string;
  processes: { name: string; running: boolean }[];
  /** Some checked process is not running. */
  degraded: boolean;
  at: string;
}

export type AgentReport = DomainEventReport | GuestHealthReport | ProcessHealthReport;

/** Where the agent's sources hand their reports; the report client implements it. Never throws. */
export interface AgentReportSink {
  submit(report: AgentReport): void;
}
