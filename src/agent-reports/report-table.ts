import type { DomainEventReport, GuestHealthReport, ProcessHealthReport, AgentReport } from "../agent/reports/agent-report.js";

/** The latest reports about one instance, as the operator received them. */
export interface InstanceReportState {
  instanceUuid: string;
  /** Newest guest heartbeat health change. */
  guestHealth?: GuestHealthReport;
  /** Newest domain lifecycle event. */
  domainEvent?: DomainEventReport;
  /** Newest `Started` domain event (when the guest last came up, as the agent saw it). */
  lastStarted?: DomainEventReport;
  /** Monotonic ms of the last accepted report (eviction order). */
  updatedMs: number;
}

/** One accepted report in the table's log. */
export interface LoggedReport {
  seq: number;
  receivedMs: number;
  report: AgentReport;
}

export type TableOutcome = "Accepted" | "Stale";

export interface ReportTableOptions {
  /** Instances kept at most; the least recently updated one is forgotten beyond (default 50000). */
  maxInstances?: number;
  /** Hosts kept at most for process health (default 10000). */
  maxHosts?: number;
  /** Entries of the log kept (default 10000). */
  logSize?: number;
}

/**
 * The operator's in-memory view of what the agents reported: per instance the newest
 * report of each kind (by the agent's `at`; an older one that arrives late is Stale), per
 * host the newest process health, and a bounded log of accepted reports that the
 * guest-actions controller reads from a cursor. Every replica keeps one (a standby is
 * warm); only the leader acts on it. Bounded in every dimension.
 */
export class AgentReportTable {
  private readonly instances = new Map<string, InstanceReportState>();
  private readonly hosts = new Map<string, ProcessHealthReport>();
  private readonly log: LoggedReport[] = [];
  private seq = 0;
  private readonly listeners = new Set<(entry: LoggedReport) => void>();
  private readonly max: Required<ReportTableOptions>;

  constructor(options: ReportTableOptions = {}) {
    this.max = { maxInstances: options.maxInstances ?? 50_000, maxHosts: options.maxHosts ?? 10_000, logSize: options.logSize ?? 10_000 };
  }

  /** Records a validated report; listeners hear of accepted ones. */
  put(report: AgentReport, receivedMs: number): TableOutcome {
    const outcome = report.kind === "ProcessHealth" ? this.putHost(report) : this.putInstance(report, receivedMs);
    if (outcome === "Stale") return outcome;
    const entry: LoggedReport = { seq: ++this.seq, receivedMs, report };
    this.log.push(entry);
    if (this.log.length > this.max.logSize) this.log.splice(0, this.log.length - this.max.logSize);
    for (const l of this.listeners) l(entry);
    return outcome;
  }

  get(instanceUuid: string): InstanceReportState | undefined {
    return this.instances.get(instanceUuid.toLowerCase());
  }

  processHealth(host: string): ProcessHealthReport | undefined {
    return this.hosts.get(host);
  }

  /** Accepted reports after `cursor` (oldest first), and the cursor to pass next time. */
  since(cursor: number): { entries: LoggedReport[]; cursor: number } {
    // Sequence numbers are consecutive: the entries after `cursor` are the last (seq - cursor).
    const start = Math.max(0, this.log.length - Math.max(0, this.seq - cursor));
    return { entries: this.log.slice(start), cursor: this.seq };
  }

  /** Every instance with a state (for a new leader's first look). */
  instanceIds(): string[] {
    return [...this.instances.keys()];
  }

  get size(): number {
    return this.instances.size;
  }

  onAccepted(listener: (entry: LoggedReport) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private putHost(r: ProcessHealthReport): TableOutcome {
    const prior = this.hosts.get(r.host);
    if (prior && Date.parse(prior.at) > Date.parse(r.at)) return "Stale";
    this.hosts.delete(r.host);
    this.hosts.set(r.host, r);
    evictOldest(this.hosts, this.max.maxHosts);
    return "Accepted";
  }

  private putInstance(r: DomainEventReport | GuestHealthReport, receivedMs: number): TableOutcome {
    const id = r.instanceUuid.toLowerCase();
    const state = this.instances.get(id) ?? { instanceUuid: id, updatedMs: receivedMs };
    const prior = r.kind === "GuestHealth" ? state.guestHealth : state.domainEvent;
    if (prior && Date.parse(prior.at) > Date.parse(r.at)) return "Stale";
    if (r.kind === "GuestHealth") state.guestHealth = r;
    else {
      state.domainEvent = r;
      if (r.event === "Started") state.lastStarted = r;
    }
    state.updatedMs = receivedMs;
    // Re-inserted so that Map order is least recently updated first.
    this.instances.delete(id);
    this.instances.set(id, state);
    evictOldest(this.instances, this.max.maxInstances);
    return "Accepted";
  }
}

function evictOldest<V>(m: Map<string, V>, max: number): void {
  while (m.size > max) {
    const first = m.keys().next();
    if (first.done) return;
    m.delete(first.value);
  }
}
