import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { evaluateProcessHealth, isProgram } from "../../../../src/agent/process-checks/evaluate-process-health.js";
import { DEFAULT_PROCESS_CHECKS, parseProcessCheck, processChecks } from "../../../../src/agent/process-checks/process-check.js";
import { ProcessChecker } from "../../../../src/agent/process-checks/process-checker.js";
import { scanProcesses, type ProcessEntry } from "../../../../src/agent/process-checks/scan-processes.js";
import type { AgentReport, ProcessHealthReport } from "../../../../src/agent/reports/agent-report.js";
import { FakeClock } from "../../../../src/util/fake-clock.js";
import { silentLogger } from "../../../../src/util/logger.js";
import { eventually } from "../../../support/eventually.js";

/** A /proc-shaped tree: one folder per pid with comm and cmdline (NUL-separated, NUL-terminated). */
class FakeProc {
  constructor(readonly root: string) {}
  async add(pid: number, comm: string, argv: string[]): Promise<void> {
    await mkdir(join(this.root, String(pid)), { recursive: true });
    await writeFile(join(this.root, String(pid), "comm"), `${comm}\n`);
    await writeFile(join(this.root, String(pid), "cmdline"), argv.length === 0 ? "" : `${argv.join("\0")}\0`);
  }
  async remove(pid: number): Promise<void> {
    await rm(join(this.root, String(pid)), { recursive: true, force: true });
  }
}

const entry = (comm: string, argv: string[]): ProcessEntry => ({ pid: 1, comm, argv });

describe("process checks", () => {
  let dir: string;
  let proc: FakeProc;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "vmkeeper-proc-"));
    proc = new FakeProc(dir);
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  describe("parseProcessCheck / processChecks", () => {
    it("parses alternatives and rejects paths and blanks", () => {
      assert.deepEqual(parseProcessCheck("libvirtd | virtqemud"), { name: "libvirtd|virtqemud", anyOf: ["libvirtd", "virtqemud"] });
      assert.throws(() => parseProcessCheck("/usr/sbin/libvirtd"), /program name/);
      assert.throws(() => parseProcessCheck("a||b"), /invalid process name/);
      assert.throws(() => parseProcessCheck("two words"), /invalid process name/);
    });
    it("adds extra checks to the defaults without duplicates", () => {
      assert.deepEqual(DEFAULT_PROCESS_CHECKS.map((c) => c.name), ["nova-compute", "libvirtd|virtqemud"]);
      assert.deepEqual(processChecks(["ovs-vswitchd", "nova-compute"]).map((c) => c.name), ["nova-compute", "libvirtd|virtqemud", "ovs-vswitchd"]);
    });
  });

  describe("isProgram", () => {
    it("matches comm, argv[0] and an interpreter's script", () => {
      assert.ok(isProgram(entry("libvirtd", ["/usr/sbin/libvirtd", "--timeout", "120"]), "libvirtd"));
      assert.ok(isProgram(entry("nova-compute", ["/usr/bin/python3", "/usr/bin/nova-compute", "--config-file=/etc/nova/nova.conf"]), "nova-compute"));
      assert.ok(isProgram(entry("python3", ["/usr/bin/python3", "-s", "/usr/bin/nova-compute"]), "nova-compute"));
      assert.ok(isProgram(entry("x", ["virtqemud"]), "virtqemud"));
      // comm keeps 15 characters.
      assert.ok(isProgram(entry("neutron-openvsw", ["neutron-openvswitch-agent"]), "neutron-openvswitch-agent"));
      assert.ok(isProgram(entry("neutron-openvsw", []), "neutron-openvswitch-agent") === false);
    });
    it("does not match look-alikes, arguments, or kernel threads", () => {
      assert.ok(!isProgram(entry("libvirtd-helper", ["/usr/lib/libvirtd-helper"]), "libvirtd"));
      assert.ok(!isProgram(entry("grep", ["grep", "nova-compute"]), "nova-compute"));
      assert.ok(!isProgram(entry("vim", ["vim", "/usr/bin/nova-compute"]), "nova-compute"));
      assert.ok(!isProgram(entry("libvirtd", []), "libvirtd"), "a zombie has no cmdline");
    });
  });

  it("scans a /proc tree, skipping non-pid entries and processes that vanished", async () => {
    await proc.add(42, "libvirtd", ["/usr/sbin/libvirtd"]);
    await proc.add(7, "kthreadd", []);
    await mkdir(join(dir, "sys"));
    await writeFile(join(dir, "uptime"), "1 1\n");
    await mkdir(join(dir, "99"));
    assert.deepEqual(await scanProcesses(dir), [
      { pid: 7, comm: "kthreadd", argv: [] },
      { pid: 42, comm: "libvirtd", argv: ["/usr/sbin/libvirtd"] },
    ]);
  });

  it("evaluates the default checks: either libvirt daemon counts", () => {
    const withVirtqemud = [entry("virtqemud", ["/usr/sbin/virtqemud", "--timeout", "120"])];
    assert.deepEqual(evaluateProcessHealth(withVirtqemud, DEFAULT_PROCESS_CHECKS), [
      { name: "nova-compute", running: false },
      { name: "libvirtd|virtqemud", running: true },
    ]);
  });

  it("reports on change and periodically, degraded when something is missing", async () => {
    const reports: ProcessHealthReport[] = [];
    const clock = new FakeClock();
    const registry = new Registry();
    const checker = new ProcessChecker({
      host: "compute-1",
      sink: { submit: (r: AgentReport) => void (r.kind === "ProcessHealth" && reports.push(r)) },
      registry,
      clock,
      log: silentLogger(),
      procRoot: dir,
      checks: processChecks(["ovs-vswitchd"]),
      reportEveryMs: 60_000,
    });
    await proc.add(10, "nova-compute", ["/usr/bin/python3", "/usr/bin/nova-compute"]);
    await proc.add(11, "libvirtd", ["/usr/sbin/libvirtd"]);
    await proc.add(12, "ovs-vswitchd", ["ovs-vswitchd", "unix:/var/run/openvswitch/db.sock"]);
    assert.equal(await checker.checkAndReport(), true);
    assert.deepEqual(reports[0], {
      kind: "ProcessHealth",
      host: "compute-1",
      processes: [
        { name: "nova-compute", running: true },
        { name: "libvirtd|virtqemud", running: true },
        { name: "ovs-vswitchd", running: true },
      ],
      degraded: false,
      at: "2026-01-01T00:00:00.000Z",
    });
    assert.equal(await checker.checkAndReport(), false, "nothing changed, not due");
    await proc.remove(10);
    assert.equal(await checker.checkAndReport(), true);
    assert.equal(reports[1]?.degraded, true);
    assert.deepEqual(reports[1]?.processes[0], { name: "nova-compute", running: false });
    const gauge = (await registry.getMetricsAsJSON()).find((m) => m.name === "vmkeeper_agent_process_running");
    assert.equal(gauge?.values.find((v) => v.labels.process === "nova-compute")?.value, 0);
    await clock.advance(60_000);
    assert.equal(await checker.checkAndReport(), true, "periodic report");
    assert.equal(reports.length, 3);
    assert.equal(checker.current()?.degraded, true);
  });

  it("runs on its clock and reports a missing /proc as a failed check, not a crash", async () => {
    const reports: ProcessHealthReport[] = [];
    const clock = new FakeClock();
    const checker = new ProcessChecker({ host: "h", sink: { submit: (r: AgentReport) => void (r.kind === "ProcessHealth" && reports.push(r)) }, registry: new Registry(), clock, log: silentLogger(), procRoot: join(dir, "missing"), intervalMs: 1000 });
    const stop = new AbortController();
    const running = checker.run(stop.signal);
    await eventually(() => assert.equal(clock.pendingSleepers(), 1), 2_000, 5);
    assert.equal(reports.length, 0);
    await mkdir(join(dir, "missing"));
    await clock.advance(1000);
    await eventually(() => assert.equal(reports.length, 1), 2_000, 5);
    assert.equal(reports[0]?.degraded, true);
    stop.abort();
    await running;
  });

  it("finds a process started for the test in the real /proc, and sees it gone after it is killed", async function () {
    this.timeout(10_000);
    // A copy of sleep under a name nothing else on the machine has.
    const name = `vmkprobe${process.pid % 100000}`;
    const bin = join(dir, name);
    await copyFile("/bin/sleep", bin);
    const { chmod } = await import("node:fs/promises");
    await chmod(bin, 0o755);
    const child = spawn(bin, ["30"], { stdio: "ignore" });
    const exited = new Promise((r) => child.once("exit", r));
    try {
      const checks = [parseProcessCheck(name), parseProcessCheck("no-such-program-here")];
      await eventually(async () => assert.deepEqual(evaluateProcessHealth(await scanProcesses("/proc"), checks), [{ name, running: true }, { name: "no-such-program-here", running: false }]), 5_000, 20);
      const own = (await scanProcesses("/proc")).find((p) => p.pid === child.pid);
      assert.equal(own?.comm, name);
      assert.deepEqual(own?.argv, [bin, "30"]);
    } finally {
      child.kill("SIGKILL");
      await exited;
    }
    assert.deepEqual(evaluateProcessHealth(await scanProcesses("/proc"), [parseProcessCheck(name)]), [{ name, running: false }]);
  });
});
