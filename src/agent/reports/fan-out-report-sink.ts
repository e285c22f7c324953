import type { AgentReport, AgentReportSink } from "./agent-report.js";

/**
 * Hands every report to several sinks — one ReportClient per operator replica, each with
 * its own buffer and backoff — so that every replica's table is complete and a standby
 * takes over warm (as heartbeats go to every replica). A replica that is down delays
 * nobody else. Never throws.
 */
export class FanOutReportSink implements AgentReportSink {
  constructor(private readonly sinks: readonly AgentReportSink[]) {}

  submit(report: AgentReport): void {
    for (const s of this.sinks) {
      try {
        s.submit(report);
      } catch {
        // A sink never throws by contract; one that does must not stop the others.
      }
    }
  }
}
