import assert from "node:assert/strict";
import { classifyDomainEvent, DomainEventClassifier, kindFromDomainState } from "../../../../src/agent/libvirt/classify-domain-event.js";
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

describe("DomainEventClassifier", () => {
  const on = (domainName: string, type: string, payload: string): VirshEvent => ({ ...ev(type, payload), domainName });
  const kinds = (events: VirshEvent[]): (string | undefined)[] => {
    const c = new DomainEventClassifier();
    return events.map((e) => c.classify(e).kind);
  };

  // The sequences libvirt 9.0 + QEMU 7.2 emitted in test/integration/libvirt-guest-events.test.ts.
  it("guest power-off (or virsh shutdown through ACPI): Shutdown after guest request, Stopped Shutdown → GuestShutdown", () => {
    assert.deepEqual(kinds([ev("lifecycle", "Shutdown Finished after guest request"), ev("lifecycle", "Stopped Shutdown")]), [undefined, "GuestShutdown"]);
  });

  it("QEMU told to quit on the host: Shutdown after host request, Stopped Shutdown → StoppedUnrequested, saying why", () => {
    const c = new DomainEventClassifier();
    assert.equal(c.classify(ev("lifecycle", "Shutdown Finished after host request")).kind, undefined);
    const stopped = c.classify(ev("lifecycle", "Stopped Shutdown"));
    assert.deepEqual(stopped, { kind: "StoppedUnrequested", detail: "Stopped Shutdown (Shutdown Finished after host request)", refreshInventory: true });
  });

  it("virsh destroy: Shutdown after host request, Stopped Destroyed → one StoppedUnrequested", () => {
    assert.deepEqual(kinds([ev("lifecycle", "Shutdown Finished after host request"), ev("lifecycle", "Stopped Destroyed")]), [undefined, "StoppedUnrequested"]);
  });

  it("remembers the origin per domain and only until that domain stops or starts", () => {
    const seq = [
      on("a", "lifecycle", "Shutdown Finished after host request"),
      on("b", "lifecycle", "Stopped Shutdown"),
      on("a", "lifecycle", "Stopped Shutdown"),
      on("a", "lifecycle", "Stopped Shutdown"),
      on("c", "lifecycle", "Shutdown Finished after host request"),
      on("c", "lifecycle", "Started Booted"),
      on("c", "lifecycle", "Stopped Shutdown"),
    ];
    assert.deepEqual(kinds(seq), [undefined, "GuestShutdown", "StoppedUnrequested", "GuestShutdown", undefined, "Started", "GuestShutdown"]);
  });

  it("old libvirt or QEMU that do not say who asked (Shutdown Finished): GuestShutdown, as before", () => {
    assert.deepEqual(kinds([ev("lifecycle", "Shutdown Finished"), ev("lifecycle", "Stopped Shutdown")]), [undefined, "GuestShutdown"]);
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
