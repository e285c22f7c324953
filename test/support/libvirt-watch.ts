import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Registry } from "prom-client";
import { DomainInventory } from "../../src/agent/libvirt/domain-inventory.js";
import { LibvirtEventWatcher, type RestartPolicy } from "../../src/agent/libvirt/libvirt-event-watcher.js";
import { VirshClient } from "../../src/agent/libvirt/virsh-client.js";
import { scanProcesses } from "../../src/agent/process-checks/scan-processes.js";
import type { AgentReport, AgentReportSink, DomainEventKind, DomainEventReport } from "../../src/agent/reports/agent-report.js";
import { SystemClock } from "../../src/util/clock.js";
import { silentLogger } from "../../src/util/logger.js";
import { eventually } from "./eventually.js";
import type { PrivateLibvirtd } from "./libvirtd.js";
import { ManagedProcess } from "./managed-process.js";

/** Records every DomainEvent report with the monotonic time it arrived. */
export class DomainEventRecorder implements AgentReportSink {
  readonly received: { report: DomainEventReport; atMs: number }[] = [];
  submit(report: AgentReport): void {
    if (report.kind === "DomainEvent") this.received.push({ report, atMs: performance.now() });
  }
  since(index: number, event: DomainEventKind): { report: DomainEventReport; atMs: number }[] {
    return this.received.slice(index).filter((r) => r.report.event === event);
  }
}

/** The agent's libvirt side (inventory + event watcher, real classes) following a private daemon. */
export interface WatchedLibvirt {
  sink: DomainEventRecorder;
  registry: Registry;
  inventory: DomainInventory;
  watcher: LibvirtEventWatcher;
  /** Stops both loops and waits for them. */
  stop(): Promise<void>;
}

/** Starts the inventory and the watcher on `lv` and waits until the event stream is connected. */
export async function watchLibvirt(lv: PrivateLibvirtd, restart?: RestartPolicy): Promise<WatchedLibvirt> {
  const sink = new DomainEventRecorder();
  const registry = new Registry();
  const clock = new SystemClock();
  const log = silentLogger();
  const inventory = new DomainInventory({ reader: new VirshClient({ uri: lv.uri }), registry, clock, log, refreshIntervalMs: 30_000 });
  const watcher = new LibvirtEventWatcher({ host: "compute-1", sink, inventory, registry, clock, log, uri: lv.uri, ...(restart ? { restart } : {}) });
  const stopping = new AbortController();
  const loops = [inventory.run(stopping.signal), watcher.run(stopping.signal)];
  await eventually(() => assert.ok(watcher.connected(), "watcher not connected"), 20_000);
  return {
    sink,
    registry,
    inventory,
    watcher,
    async stop(): Promise<void> {
      stopping.abort();
      await Promise.all(loops);
    },
  };
}

/** libvirt's own words: a plain `virsh event --all --loop --timestamp` beside the agent's, its lines kept in a file. */
export class VirshEventLog {
  private constructor(private readonly proc: ManagedProcess) {}

  static start(lv: PrivateLibvirtd, file = join(lv.dir, "virsh-events.log")): VirshEventLog {
    const proc = new ManagedProcess("virsh-event", "virsh", ["-c", lv.uri, "event", "--all", "--loop", "--timestamp"], file, { ...process.env, LC_ALL: "C" });
    proc.start();
    return new VirshEventLog(proc);
  }

  /** The event lines so far that name `domain`. */
  linesFor(domain: string): string[] {
    let text = "";
    try {
      text = readFileSync(this.proc.logPath, "utf8");
    } catch {
      return [];
    }
    return text.split("\n").filter((l) => l.includes(`for domain '${domain}'`));
  }

  async stop(): Promise<void> {
    await this.proc.stop();
  }
}

/** Outer PID of the QEMU process running the domain (its command line names the UUID). */
export async function qemuPid(uuid: string): Promise<number> {
  const procs = await scanProcesses("/proc");
  const qemu = procs.find((p) => p.comm.startsWith("qemu-system") && p.argv.includes(uuid));
  if (!qemu) throw new Error(`no QEMU process for ${uuid}`);
  return qemu.pid;
}
