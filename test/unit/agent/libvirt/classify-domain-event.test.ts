import assert from "node:assert/strict";
import { classifyDomainEvent, kindFromDomainState } from "../../../../src/agent/libvirt/classify-domain-event.js";
import type { VirshEvent } from "../../../../src/agent/libvirt/parse-virsh-event.js";

const ev = (type: string, payload: string): VirshEvent => ({ timestamp: "2026-12-01 22:31:05.500+0000", type, domainName: "vm1", payload });

describe("classifyDomainEvent", () => {
  const table: [string, string, string | undefined][] = [
    ["lifecycle", "Stopped Crashed", "Crashed"],
    ["lifecycle", "Crashed Panicked", "Crashed"],
    ["lifecycle", "Crashed Crashloaded", "Crashed"],
    ["lifecycle", "Stopped Destroyed", "StoppedUnrequested"],
    ["lifecycle", "Stopped Failed", "StoppedUnrequested"],
    ["lifecycle", "Stopped Shutdown", "GuestShutdown"],
    ["lifecycle", "Suspended I/O Error", "PausedIOError"],
    ["lifecycle", "Started Booted", "Started"],
    ["lifecycle", "Started Restored", "Started"],
    ["lifecycle", "Resumed Unpaused", "Started"],
    ["lifecycle", "Resumed Migrated", "Started"],
    ["watchdog", "none", "WatchdogFired"],
    ["watchdog", "reset", "WatchdogFired"],
    // Planned or chosen: not reported.
    ["lifecycle", "Stopped Migrated", undefined],
    ["lifecycle", "Stopped Saved", undefined],
    ["lifecycle", "Stopped Snapshot", undefined],
    ["lifecycle", "Suspended Paused", undefined],
    ["lifecycle", "Shutdown Finished after guest request", undefined],
    ["lifecycle", "Defined Added", undefined],
    ["lifecycle", "Undefined Removed", undefined],
    ["lifecycle", "PMSuspended Memory", undefined],
    ["reboot", "", undefined],
    ["io-error", "/dev/sdb (virtio-disk1) pause", undefined],
  ];
  for (const [type, payload, kind] of table) {
    it(`${type} ${payload || "(no payload)"} → ${kind ?? "not reported"}`, () => {
      assert.equal(classifyDomainEvent(ev(type, payload)).kind, kind);
    });
  }

  it("keeps libvirt's words as the detail", () => {
    assert.equal(classifyDomainEvent(ev("lifecycle", "Stopped Destroyed")).detail, "Stopped Destroyed");
    assert.equal(classifyDomainEvent(ev("watchdog", "poweroff")).detail, "Watchdog poweroff");
  });

  it("asks for an inventory refresh on defines, undefines, starts and stops only", () => {
    const refreshes = (payload: string): boolean => classifyDomainEvent(ev("lifecycle", payload)).refreshInventory;
    assert.ok(refreshes("Defined Updated") && refreshes("Undefined Removed") && refreshes("Started Booted") && refreshes("Stopped Destroyed"));
    assert.ok(!refreshes("Suspended Paused") && !refreshes("Resumed Unpaused"));
    assert.equal(classifyDomainEvent(ev("watchdog", "none")).refreshInventory, false);
  });
});

describe("kindFromDomainState", () => {
  const table: [string, string | undefined][] = [
    ["running (booted)", "Started"],
    ["running (unpaused)", "Started"],
    ["shut off (destroyed)", "StoppedUnrequested"],
    ["shut off (failed)", "StoppedUnrequested"],
    ["shut off (crashed)", "Crashed"],
    ["shut off (shutdown)", "GuestShutdown"],
    ["shut off (unknown)", undefined],
    ["shut off (saved)", undefined],
    // virsh's words for VIR_DOMAIN_PAUSED_IOERROR (libvirt 9.0, LC_ALL=C), not the enum name.
    ["paused (I/O error)", "PausedIOError"],
    ["paused (ioerror)", undefined],
    ["paused (user)", undefined],
    ["crashed (panicked)", "Crashed"],
    ["idle", undefined],
    ["", undefined],
  ];
  for (const [state, kind] of table) {
    it(`${JSON.stringify(state)} → ${kind ?? "nothing"}`, () => assert.equal(kindFromDomainState(state), kind));
  }
});
