import { Gauge, type Registry } from "prom-client";
import type { Clock } from "../../util/clock.js";
import type { Logger } from "../../util/logger.js";
import type { AgentReportSink, ProcessHealthReport } from "../reports/agent-report.js";
import { evaluateProcessHealth } from "./evaluate-process-health.js";
import { DEFAULT_PROCESS_CHECKS, type ProcessCheck } from "./process-check.js";
import { scanProcesses } from "./scan-processes.js";

export interface ProcessCheckerOptions {
  /** nova-compute service host name, written into every report. */
  host: string;
  sink: AgentReportSink;
  registry: Registry;
  clock: Clock;
  log: Logger;
  /** What to check; default nova-compute and libvirtd|virtqemud (see `processChecks`). */
  checks?: readonly ProcessCheck[];
  /** procfs root; default /proc (tests point it at a fake tree). */
  procRoot?: string;
  /** How often /proc is scanned; default 10 s. */
  intervalMs?: number;
  /** A report is sent on every change and at least this often; default 5 min. */
  reportEveryMs?: number;
}

/**
 * Checks that the host's OpenStack and libvirt daemons run, by scanning /proc. It only
 * reports: a missing nova-compute or libvirt daemon makes the host `degraded`, which the
 * operator shows and corroborates; nothing on this side fences or restarts anything.
 */
export class ProcessChecker {
  private readonly checks: readonly ProcessCheck[];
  private readonly intervalMs: number;
  private readonly reportEveryMs: number;
  private readonly gauge: Gauge<"process">;
  private last: ProcessHealthReport | undefined;
  private lastSentMs: number | undefined;

  constructor(private readonly options: ProcessCheckerOptions) {
    this.checks = options.checks ?? DEFAULT_PROCESS_CHECKS;
    this.intervalMs = options.intervalMs ?? 10_000;
    this.reportEveryMs = options.reportEveryMs ?? 300_000;
    this.gauge = new Gauge({ name: "vmkeeper_agent_process_running", help: "1 when a process matching the check runs on this host.", labelNames: ["process"], registers: [options.registry] });
  }

  /** The last report made, if any. */
  current(): ProcessHealthReport | undefined {
    return this.last;
  }

  /** Scans once and returns the health, without sending it. */
  async check(): Promise<ProcessHealthReport> {
    const processes = evaluateProcessHealth(await scanProcesses(this.options.procRoot), this.checks);
    for (const p of processes) this.gauge.set({ process: p.name }, p.running ? 1 : 0);
    return { kind: "ProcessHealth", host: this.options.host, processes, degraded: processes.some((p) => !p.running), at: this.options.clock.now().toISOString() };
  }

  /** Scans once; sends a report when something changed or the last one is older than `reportEveryMs`. Returns whether it sent. */
  async checkAndReport(): Promise<boolean> {
    const report = await this.check();
    const now = this.options.clock.monotonicMs();
    const changed = this.last === undefined || JSON.stringify(this.last.processes) !== JSON.stringify(report.processes);
    const due = this.lastSentMs === undefined || now - this.lastSentMs >= this.reportEveryMs;
    this.last = report;
    if (!changed && !due) return false;
    if (changed) {
      const missing = report.processes.filter((p) => !p.running).map((p) => p.name);
      this.options.log[report.degraded ? "warn" : "info"]({ missing }, report.degraded ? "host processes missing: degraded" : "host processes all running");
    }
    this.lastSentMs = now;
    this.options.sink.submit(report);
    return true;
  }

  /** Checks every `intervalMs` until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.checkAndReport();
      } catch (err: unknown) {
        this.options.log.warn({ err: err instanceof Error ? err.message : String(err), procRoot: this.options.procRoot ?? "/proc" }, "process check failed");
      }
      try {
        await this.options.clock.sleep(this.intervalMs, signal);
      } catch {
        return;
      }
    }
  }
}
