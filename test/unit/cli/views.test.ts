import assert from "node:assert/strict";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import type { Incident, InstanceHAPolicy, OpenStackCloud } from "../../../src/api/v1alpha1/index.js";
import type { LiveState } from "../../../src/cli/commands/kube-target.js";
import { runCli } from "../../../src/cli/run-cli.js";
import { humanDuration } from "../../../src/cli/view/durations.js";
import { formatHosts, hostRows } from "../../../src/cli/view/format-hosts.js";
import { formatIncidentDescription, formatIncidents } from "../../../src/cli/view/format-incident.js";
import { formatStatus } from "../../../src/cli/view/format-status.js";
import { startProgress } from "../../../src/cli/view/progress.js";
import { statusReport } from "../../../src/cli/view/status-report.js";
import { ANSI, PLAIN, styleFor } from "../../../src/cli/view/style.js";
import { formatTable } from "../../../src/cli/view/table.js";
import { assertGolden, sourceDir } from "../../support/golden.js";
import { NOW, world } from "../what-if/world-fixture.js";

const ESC = "\u001b";
const GOLDEN = join(sourceDir(import.meta.url), "golden");

/** A recovered incident with fencing, a reserved host, a fallback and a failure, as the executor records it. */
const RECOVERED: Incident = {
  apiVersion: "ha.vmkeeper.dev/v1alpha1",
  kind: "Incident",
  metadata: { name: "lab.compute-1-3", namespace: "ns" },
  spec: { cloudRef: { name: "lab" }, hostRef: { name: "lab.compute-1" }, serviceHost: "compute-1", epoch: 3, trigger: "HostFailure", reason: "Heartbeat: silent for 2100 ms; Peers: 3 of 3 reporting peers cannot reach it", detectedAt: "2026-11-30T11:50:00Z", detectedBy: "vmkeeper-a" },
  status: {
    phase: "Failed",
    policies: [{ name: "keep", mode: "KeepRunning" }],
    timestamps: { confirmedAt: "2026-11-30T11:50:00Z", fencingStartedAt: "2026-11-30T11:50:00Z", fencedAt: "2026-11-30T11:50:04Z", firstEvacuationAt: "2026-11-30T11:50:05Z", finishedAt: "2026-11-30T11:50:41Z" },
    notification: { sentAt: "2026-11-30T11:50:00Z", deliveredAt: "2026-11-30T11:50:01Z", attempts: 1 },
    fencing: { hostFencingRef: { name: "bmc" }, level: "ipmi", attempts: 1, powerReadBackOff: true, forcedDown: true, serviceDisabled: true, devices: [{ level: "ipmi", device: "bmc-1", result: "Succeeded", powerState: "Off", time: "2026-11-30T11:50:03Z" }] },
    reservedHosts: [{ name: "lab.spare", serviceHost: "spare", enabledAt: "2026-11-30T11:50:05Z" }],
    summary: { total: 3, recovered: 2, failed: 1, pending: 0 },
    instances: [
      { id: "1", name: "db-1", policy: "keep", tier: "databases", state: "Recovered", method: "ReservedHost", attempts: 1, targetHost: "spare", message: "ACTIVE on spare", startedAt: "2026-11-30T11:50:05Z", finishedAt: "2026-11-30T11:50:14Z" },
      { id: "2", name: "web-1", policy: "keep", tier: "default", state: "Recovered", method: "Evacuate", attempts: 2, targetHost: "compute-2", message: "ACTIVE on compute-2", startedAt: "2026-11-30T11:50:20Z", finishedAt: "2026-11-30T11:50:29Z" },
      { id: "3", name: "big-1", policy: "keep", tier: "default", state: "Failed", method: "Evacuate", attempts: 1, message: "evacuation failed: No valid host was found.", startedAt: "2026-11-30T11:50:20Z", finishedAt: "2026-11-30T11:50:21Z" },
    ],
    hostReturn: { mode: "Manual", state: "WaitingForPerson", message: "a person returns it" },
  },
};

const SUPPRESSED: Incident = {
  apiVersion: "ha.vmkeeper.dev/v1alpha1",
  kind: "Incident",
  metadata: { name: "lab.compute-4-1", namespace: "ns" },
  spec: { cloudRef: { name: "lab" }, hostRef: { name: "lab.compute-4" }, serviceHost: "compute-4", epoch: 1, trigger: "HostFailure", detectedAt: "2026-11-30T11:58:00Z" },
  status: { phase: "Suppressed", gate: { name: "Paused", reason: "PolicyPaused", message: "every active InstanceHAPolicy of the cloud is paused" } },
};

function liveState(): LiveState {
  const w = world({
    hosts: [{ name: "compute-1", state: "Failed" }, { name: "compute-2" }, { name: "compute-3", state: "Degraded" }, { name: "compute-4", state: "Failed", maintenance: true }, { name: "spare", disabled: "spare" }],
    vms: [],
    failing: [],
    fencing: "ready",
  });
  const h3 = w.hosts[2];
  if (h3?.status?.health) h3.status.health.evidence = [{ source: "Nova", observation: "nova-compute down" }];
  const h1 = w.hosts[0];
  if (h1?.status) h1.status.currentIncidentRef = { name: "lab.compute-1-3" };
  const [bmc] = w.hostFencings;
  if (bmc?.status?.hosts?.[4]?.devices?.[0]) bmc.status.hosts[4].devices[0].reachable = false;
  if (bmc?.status) {
    bmc.status.conditions = [{ type: "DevicesReady", status: "False", reason: "SomeHostUnfenceable", message: "1 host", lastTransitionTime: "2026-11-30T10:00:00Z" }];
    bmc.status.selectedHostCount = 5;
    bmc.status.unfenceableHostCount = 1;
  }
  const policy: InstanceHAPolicy = {
    ...(w.policies[0] as InstanceHAPolicy),
    status: { protectedCount: 42, unprotectedCount: 3, hostFailuresTolerated: 1, conditions: [{ type: "FailoverCapacitySufficient", status: "True", reason: "Sufficient", message: "1 host failure absorbed", lastTransitionTime: "2026-11-30T10:00:00Z" }] },
  };
  const cloud: OpenStackCloud = { apiVersion: "ha.vmkeeper.dev/v1alpha1", kind: "OpenStackCloud", metadata: { name: "lab", namespace: "ns" }, spec: { secretRef: { name: "lab-clouds" }, cloudName: "lab" }, status: { conditions: [{ type: "Ready", status: "True", reason: "Connected", message: "ok", lastTransitionTime: "2026-11-30T10:00:00Z" }] } };
  return { namespace: "ns", clouds: [cloud], policies: [policy], hosts: w.hosts, incidents: [RECOVERED, SUPPRESSED], hostFencings: w.hostFencings };
}

describe("CLI views (golden)", () => {
  it("status", () => {
    const report = statusReport(liveState(), NOW);
    assertGolden(join(GOLDEN, "status.yaml"), { printed: formatStatus(report, PLAIN, NOW), json: report });
  });

  it("incidents and describe incident", () => {
    assertGolden(join(GOLDEN, "incidents.yaml"), { table: formatIncidents([SUPPRESSED, RECOVERED], PLAIN, NOW, false), allNamespaces: formatIncidents([RECOVERED], PLAIN, NOW, true), describe: formatIncidentDescription(RECOVERED, PLAIN, NOW), describeSuppressed: formatIncidentDescription(SUPPRESSED, PLAIN, NOW) });
  });

  it("hosts", () => {
    const s = liveState();
    assertGolden(join(GOLDEN, "hosts.yaml"), { printed: formatHosts(hostRows(s.hosts, s.hostFencings), PLAIN, NOW, false) });
  });
});

describe("CLI view helpers", () => {
  it("colours only on a terminal and never with NO_COLOR", () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true });
    assert.equal(styleFor(tty, {}), ANSI);
    assert.equal(styleFor(tty, { NO_COLOR: "1" }), PLAIN);
    assert.equal(styleFor(new PassThrough(), {}), PLAIN);
    const coloured = formatStatus(statusReport(liveState(), NOW), ANSI, NOW);
    assert.ok(coloured.includes(`${ESC}[31mFailed${ESC}[0m`), "Failed in red");
    assert.ok(!formatStatus(statusReport(liveState(), NOW), PLAIN, NOW).includes(ESC), "no escape without colour");
  });

  it("aligns table columns on visible width, colour or not", () => {
    assert.equal(formatTable(["A", "B"], [[ANSI.bad("xx"), "1"], ["y", "2"]]).split(`${ESC}[31m`).join("").split(`${ESC}[0m`).join(""), "A    B\nxx   1\ny    2\n");
  });

  it("prints durations like kubectl ages", () => {
    assert.deepEqual([undefined, -1, 900, 4200, 59_000, 200_000, 3_600_000, 7_500_000, 90_000_000].map(humanDuration), ["-", "-", "0.9s", "4.2s", "59s", "3m20s", "1h", "2h5m", "1d1h"]);
  });

  it("shows progress only on a terminal, after the delay, and erases it", async () => {
    const quiet = new PassThrough();
    const chunks: string[] = [];
    quiet.on("data", (c: Buffer) => chunks.push(c.toString()));
    const p = startProgress(quiet, { delayMs: 0 });
    p.update("working");
    await new Promise((r) => setTimeout(r, 20));
    p.done();
    assert.deepEqual(chunks, [], "nothing on a pipe");
    const tty = Object.assign(new PassThrough(), { isTTY: true });
    const seen: string[] = [];
    tty.on("data", (c: Buffer) => seen.push(c.toString()));
    const q = startProgress(tty, { delayMs: 0, intervalMs: 5 });
    q.update("reading Nova");
    await new Promise((r) => setTimeout(r, 30));
    q.done();
    assert.match(seen.join(""), /reading Nova/);
    assert.equal(seen[seen.length - 1], "\r\u001b[2K", "the line is erased at the end");
  });
});

describe("CLI usage errors (exit 2, naming what was wrong)", () => {
  const run = async (args: string[]): Promise<{ code: number; stderr: string; stdout: string }> => {
    const out = new PassThrough();
    const err = new PassThrough();
    const o: string[] = [];
    const e: string[] = [];
    out.on("data", (c: Buffer) => o.push(c.toString()));
    err.on("data", (c: Buffer) => e.push(c.toString()));
    const code = await runCli("vmkeeper", args, { stdout: out, stderr: err, stdin: Readable.from([]), env: { KUBECONFIG: "/nonexistent/kubeconfig" }, cwd: "/" });
    return { code, stderr: e.join(""), stdout: o.join("") };
  };

  for (const [args, message] of [
    [["what-if"], /at least one --host is required/],
    [["what-if", "--host", "a", "--cpu-allocation-ratio", "zero"], /--cpu-allocation-ratio must be a positive number, not "zero"/],
    [["what-if", "--host", "a", "-A"], /one namespace/],
    [["status", "-o", "yaml"], /unknown output format "yaml"/],
    [["status", "-n", "a", "-A"], /cannot be used together/],
    [["hosts", "--bogus"], /Unknown option '--bogus'/],
    [["incidents", "extra"], /unexpected argument "extra"/],
    [["describe", "host", "x"], /only "incident" is supported/],
    [["describe", "incident"], /missing the incident's NAME/],
  ] as const) {
    it(args.join(" "), async () => {
      const r = await run([...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
    });
  }

  it("prints each command's help with exit 0", async () => {
    for (const cmd of ["status", "incidents", "describe", "hosts", "what-if"]) {
      const r = await run([cmd, "--help"]);
      assert.equal(r.code, 0, cmd);
      assert.match(r.stdout, new RegExp(`Usage: vmkeeper ${cmd}`));
    }
  });
});
