import { spawn, type ChildProcess } from "node:child_process";
import { Counter, Gauge, type Registry } from "prom-client";
import type { Clock } from "../../util/clock.js";
import type { Logger } from "../../util/logger.js";
import type { AgentReportSink, DomainEventKind, DomainEventReport } from "../reports/agent-report.js";
import { DomainEventClassifier, kindFromDomainState } from "./classify-domain-event.js";
import type { InventoryDomain } from "./domain-inventory.js";
import { LineSplitter, parseVirshEventLine, type VirshEvent } from "./parse-virsh-event.js";
import { DEFAULT_LIBVIRT_URI } from "./virsh-client.js";

/** What the watcher needs from the domain inventory. */
export interface DomainDirectory {
  resolveUuid(name: string): Promise<string | undefined>;
  refresh(): Promise<readonly InventoryDomain[]>;
  requestRefresh(): void;
}

/** Delays between restarts of the event stream: doubling from `initialDelayMs` to `maxDelayMs`. */
export interface RestartPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { initialDelayMs: 250, maxDelayMs: 30_000 };

export interface LibvirtEventWatcherOptions {
  /** nova-compute service host name, written into every report. */
  host: string;
  sink: AgentReportSink;
  inventory: DomainDirectory;
  registry: Registry;
  clock: Clock;
  log: Logger;
  /** libvirt connection URI; default qemu:///system. */
  uri?: string;
  /** virsh binary; default `virsh` from PATH. */
  virshPath?: string;
  /** The event stream command; default `virsh -c <uri> event --all --loop --timestamp`. */
  command?: { file: string; args: string[] };
  restart?: RestartPolicy;
  /** A stream alive this long counts as connected (virsh prints nothing on connect); default 1000 ms. */
  connectedAfterMs?: number;
}

/** Delay before restart number `attempt` (0 for the first). */
export function restartDelayMs(attempt: number, policy: RestartPolicy): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(Math.max(0, attempt), 30));
}

type Work = { kind: "line"; line: string } | { kind: "sync"; report: boolean };

/**
 * Follows libvirt's domain events through a long-running `virsh event` child, classifies
 * them and hands each one the operator acts on to the sink as a DomainEventReport. The child
 * is restarted with capped backoff whenever it exits; after a reconnect the domain states are
 * compared with what was last known, so a stop that happened while no stream was connected
 * is still reported (with detail `resync: <state>`).
 */
export class LibvirtEventWatcher {
  private readonly uri: string;
  private readonly command: { file: string; args: string[] };
  private readonly restart: RestartPolicy;
  private readonly connectedAfterMs: number;
  private readonly events: Counter<"event">;
  private readonly malformed: Counter;
  private readonly unresolved: Counter;
  private readonly connectedGauge: Gauge;
  private readonly restartsCounter: Counter;
  /** Last kind known per instance UUID: reported, or only seen in the first state snapshot. */
  private readonly lastKind = new Map<string, { kind: DomainEventKind; reported: boolean }>();
  private readonly classifier = new DomainEventClassifier();
  private child: ChildProcess | undefined;
  private isConnected = false;
  private everConnected = false;
  private queue: Promise<void> = Promise.resolve();
  private restartCount = 0;

  constructor(private readonly options: LibvirtEventWatcherOptions) {
    this.uri = options.uri ?? DEFAULT_LIBVIRT_URI;
    this.command = options.command ?? { file: options.virshPath ?? "virsh", args: ["-c", this.uri, "event", "--all", "--loop", "--timestamp"] };
    this.restart = options.restart ?? DEFAULT_RESTART_POLICY;
    this.connectedAfterMs = options.connectedAfterMs ?? 1000;
    const registers = [options.registry];
    this.events = new Counter({ name: "vmkeeper_agent_libvirt_events_total", help: "libvirt domain events seen, by the kind they were classified as (Unreported: not one the operator acts on).", labelNames: ["event"], registers });
    this.malformed = new Counter({ name: "vmkeeper_agent_libvirt_malformed_lines_total", help: "Lines of the virsh event stream that could not be parsed (dropped).", registers });
    this.unresolved = new Counter({ name: "vmkeeper_agent_libvirt_unresolved_events_total", help: "Reportable libvirt events dropped because the domain's UUID could not be found.", registers });
    this.restartsCounter = new Counter({ name: "vmkeeper_agent_libvirt_stream_restarts_total", help: "Restarts of the virsh event stream after it exited.", registers });
    this.connectedGauge = new Gauge({ name: "vmkeeper_agent_libvirt_connected", help: "1 while the libvirt event stream is connected.", registers });
  }

  /** The event stream is up (alive past the connect grace, or has delivered an event). */
  connected(): boolean {
    return this.isConnected;
  }

  /** PID of the current `virsh event` child, if one runs. */
  streamPid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  /** How often the stream has been restarted after exiting. */
  restarts(): number {
    return this.restartCount;
  }

  /** Runs the stream until `signal` aborts; then stops the child and resolves. */
  async run(signal: AbortSignal): Promise<void> {
    let attempt = 0;
    while (!signal.aborted) {
      const wasConnected = await this.runOnce(signal);
      await this.queue;
      if (signal.aborted) break;
      attempt = wasConnected ? 0 : attempt + 1;
      const delay = restartDelayMs(Math.max(0, attempt - 1), this.restart);
      this.restartCount++;
      this.restartsCounter.inc();
      try {
        await this.options.clock.sleep(delay, signal);
      } catch {
        break;
      }
    }
  }

  /** Runs one child until it exits (or `signal` aborts); returns whether it got connected. */
  private runOnce(signal: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const { log } = this.options;
      const child = spawn(this.command.file, this.command.args, { env: { ...process.env, LC_ALL: "C" }, stdio: ["ignore", "pipe", "pipe"] });
      this.child = child;
      const splitter = new LineSplitter();
      let stderr = "";
      let connectedHere = false;
      const markConnected = (): void => {
        if (connectedHere || child.exitCode !== null || child.signalCode !== null) return;
        connectedHere = true;
        this.isConnected = true;
        this.connectedGauge.set(1);
        log.info({ uri: this.uri, pid: child.pid }, "libvirt event stream connected");
        this.enqueue({ kind: "sync", report: this.everConnected });
        this.everConnected = true;
      };
      const timer = setTimeout(markConnected, this.connectedAfterMs);
      const onAbort = (): void => {
        child.kill("SIGTERM");
      };
      signal.addEventListener("abort", onAbort, { once: true });
      child.stdout?.setEncoding("utf8");
      child.stdout?.on("data", (chunk: string) => {
        const { lines, overlong } = splitter.push(chunk);
        if (overlong > 0) this.malformed.inc(overlong);
        if (lines.length > 0) markConnected();
        for (const line of lines) this.enqueue({ kind: "line", line });
      });
      child.stderr?.setEncoding("utf8");
      child.stderr?.on("data", (chunk: string) => {
        stderr = (stderr + chunk).slice(-2000);
      });
      const finish = (why: string): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        const rest = splitter.flush();
        if (rest !== undefined) this.enqueue({ kind: "line", line: rest });
        if (this.child === child) this.child = undefined;
        this.isConnected = false;
        this.connectedGauge.set(0);
        if (!signal.aborted) log.warn({ uri: this.uri, why, stderr: stderr.trim() }, "libvirt event stream ended; restarting");
        resolve(connectedHere);
      };
      child.once("error", (err) => finish(`spawn failed: ${err.message}`));
      child.once("close", (code, sig) => finish(sig === null ? `exit code ${code ?? "?"}` : `signal ${sig}`));
    });
  }

  /** Work runs strictly in order, so reports leave in the order libvirt emitted them. */
  private enqueue(work: Work): void {
    this.queue = this.queue
      .then(() => (work.kind === "line" ? this.handleLine(work.line) : this.sync(work.report)))
      .catch((err: unknown) => this.options.log.warn({ err: err instanceof Error ? err.message : String(err) }, "libvirt event handling failed"));
  }

  private async handleLine(line: string): Promise<void> {
    const parsed = parseVirshEventLine(line);
    if (parsed.kind === "skip") return;
    if (parsed.kind === "malformed") {
      this.malformed.inc();
      this.options.log.debug({ line: line.slice(0, 200), reason: parsed.reason }, "malformed virsh event line dropped");
      return;
    }
    await this.handleEvent(parsed.event);
  }

  private async handleEvent(event: VirshEvent): Promise<void> {
    const cls = this.classifier.classify(event);
    if (cls.refreshInventory) this.options.inventory.requestRefresh();
    this.events.inc({ event: cls.kind ?? "Unreported" });
    if (cls.kind === undefined) return;
    const uuid = await this.options.inventory.resolveUuid(event.domainName);
    if (uuid === undefined) {
      this.unresolved.inc();
      this.options.log.warn({ domain: event.domainName, detail: cls.detail }, "libvirt event for a domain without a known UUID dropped");
      return;
    }
    this.report(uuid, event.domainName, cls.kind, cls.detail);
  }

  private report(uuid: string, domainName: string, kind: DomainEventKind, detail: string): void {
    const previous = this.lastKind.get(uuid);
    this.lastKind.set(uuid, { kind, reported: true });
    // libvirt sends Resumed/Unpaused and Started/Booted for one start: tell the operator once.
    if (kind === "Started" && previous?.kind === "Started" && previous.reported) return;
    const report: DomainEventReport = { kind: "DomainEvent", host: this.options.host, instanceUuid: uuid, domainName, event: kind, detail, at: this.options.clock.now().toISOString() };
    this.options.log.info({ instanceUuid: uuid, domain: domainName, event: kind, detail }, "libvirt domain event");
    this.options.sink.submit(report);
  }

  /** Reads every domain's state; reports differences from what was last known when `reportChanges`. */
  private async sync(reportChanges: boolean): Promise<void> {
    let domains: readonly InventoryDomain[];
    try {
      domains = await this.options.inventory.refresh();
    } catch (err: unknown) {
      this.options.log.warn({ err: err instanceof Error ? err.message : String(err) }, "libvirt state resync failed");
      return;
    }
    for (const d of domains) {
      const kind = kindFromDomainState(d.state);
      const last = this.lastKind.get(d.uuid)?.kind;
      if (kind === undefined || last === kind) continue;
      // `shut off (shutdown)` does not say who asked: a stop already known more precisely
      // (host-requested, destroyed, crashed) is not turned into the guest's own shutdown.
      if (kind === "GuestShutdown" && (last === "StoppedUnrequested" || last === "Crashed")) continue;
      if (reportChanges) this.report(d.uuid, d.name, kind, `resync: ${d.state}`);
      else if (!this.lastKind.has(d.uuid)) this.lastKind.set(d.uuid, { kind, reported: false });
    }
  }
}
