import assert from "node:assert/strict";
import { LineSplitter, parseVirshEventLine, splitLifecyclePayload } from "../../../../src/agent/libvirt/parse-virsh-event.js";

// Recorded from `virsh event --all --loop --timestamp` against libvirt 9.0.0 (Debian bookworm).
const RECORDED = [
  "2026-12-01 22:31:05.500+0000: event 'lifecycle' for domain 'instance-0000002a': Resumed Unpaused",
  "2026-12-01 22:31:05.501+0000: event 'lifecycle' for domain 'instance-0000002a': Started Booted",
  "2026-12-01 22:31:07.535+0000: event 'lifecycle' for domain 'instance-0000002a': Suspended Paused",
  "2026-12-01 22:31:09.018+0000: event 'lifecycle' for domain 'instance-0000002a': Shutdown Finished after host request",
  "2026-12-01 22:31:09.019+0000: event 'lifecycle' for domain 'instance-0000002a': Stopped Destroyed",
  "2026-12-01 22:31:13.133+0000: event 'lifecycle' for domain 'instance-0000002a': Stopped Failed",
  "2026-12-01 22:31:15.050+0000: event 'lifecycle' for domain 'instance-0000002a': Undefined Removed",
];

describe("parseVirshEventLine", () => {
  it("parses recorded lifecycle lines into timestamp, type, domain and payload", () => {
    const parsed = RECORDED.map(parseVirshEventLine);
    assert.ok(parsed.every((p) => p.kind === "event"));
    assert.deepEqual(parsed[4], { kind: "event", event: { timestamp: "2026-12-01 22:31:09.019+0000", type: "lifecycle", domainName: "instance-0000002a", payload: "Stopped Destroyed" } });
    const shutdown = parsed[3];
    assert.equal(shutdown?.kind === "event" ? shutdown.event.payload : "", "Shutdown Finished after host request");
  });

  it("parses events without payload, watchdog and io-error events, and names with quotes", () => {
    assert.deepEqual(parseVirshEventLine("2026-12-01 22:40:00.000+0000: event 'reboot' for domain 'vm1'"), {
      kind: "event",
      event: { timestamp: "2026-12-01 22:40:00.000+0000", type: "reboot", domainName: "vm1", payload: "" },
    });
    const wd = parseVirshEventLine("2026-12-01 22:40:00.000+0000: event 'watchdog' for domain 'vm1': inject-nmi");
    assert.equal(wd.kind === "event" && wd.event.payload, "inject-nmi");
    const io = parseVirshEventLine("2026-12-01 22:40:00.000+0000: event 'io-error' for domain 'vm1': /dev/sdb (virtio-disk1) pause due to enospc");
    assert.equal(io.kind === "event" && io.event.type, "io-error");
    const quoted = parseVirshEventLine("2026-12-01 22:40:00.000+0000: event 'lifecycle' for domain 'it's mine': Started Booted");
    assert.equal(quoted.kind === "event" && quoted.event.domainName, "it's mine");
    assert.equal(parseVirshEventLine(`${RECORDED[0] ?? ""}\r`).kind, "event");
  });

  it("skips continuation lines, blank lines and virsh's closing words", () => {
    for (const line of ["\tx509dname=CN=client", "", "   ", "event loop interrupted", "events received: 12"]) {
      assert.deepEqual(parseVirshEventLine(line), { kind: "skip" }, JSON.stringify(line));
    }
  });

  it("reports malformed lines with a reason", () => {
    const cases: [string, string][] = [
      ["event 'lifecycle' for domain 'vm1': Started Booted", "no timestamp"],
      ["2026-12-01 22:31:05+0000: event 'lifecycle' for domain 'vm1': Started Booted", "no timestamp"],
      ["2026-12-01 22:31:05.500+0000: error: Disconnected from qemu:///system due to end of file", "not an event line"],
      ["2026-12-01 22:31:05.500+0000: event 'lifecycle' for domain vm1: Started Booted", "not an event line"],
      ["2026-12-01 22:31:05.500+0000: event 'Lifecycle' for domain 'vm1': Started Booted", "not an event line"],
      ["2026-12-01 22:31:05.500+0000: event 'lifecycle' for domain 'vm1'", "lifecycle event without event and detail"],
      ["garbage", "no timestamp"],
    ];
    for (const [line, reason] of cases) assert.deepEqual(parseVirshEventLine(line), { kind: "malformed", reason }, line);
  });

  it("splits a lifecycle payload into its event word and detail", () => {
    assert.deepEqual(splitLifecyclePayload("Suspended I/O Error"), { event: "Suspended", detail: "I/O Error" });
    assert.deepEqual(splitLifecyclePayload("Stopped"), { event: "Stopped", detail: "" });
  });
});

describe("LineSplitter", () => {
  it("joins lines split across chunks and keeps the unterminated tail", () => {
    const s = new LineSplitter();
    assert.deepEqual(s.push("a\nb"), { lines: ["a"], overlong: 0 });
    assert.deepEqual(s.push("c\n\nd"), { lines: ["bc", ""], overlong: 0 });
    assert.equal(s.flush(), "d");
    assert.equal(s.flush(), undefined);
  });

  it("drops overlong lines, counted once, including one that spans chunks", () => {
    const s = new LineSplitter(4);
    assert.deepEqual(s.push("12345\nok\n"), { lines: ["ok"], overlong: 1 });
    assert.deepEqual(s.push("abcdef"), { lines: [], overlong: 1 });
    assert.deepEqual(s.push("ghij"), { lines: [], overlong: 0 });
    assert.deepEqual(s.push("kl\nnext\n"), { lines: ["next"], overlong: 0 });
    assert.equal(s.flush(), undefined);
  });
});
