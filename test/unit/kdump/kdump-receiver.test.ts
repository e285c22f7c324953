import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { parseKdumpNotice, signKdumpNotice } from "../../../src/kdump/kdump-notice.js";
import { KdumpReceiver } from "../../../src/kdump/kdump-receiver.js";
import { SystemClock } from "../../../src/util/clock.js";
import { FakeClock } from "../../../src/util/fake-clock.js";
import { eventually } from "../../support/eventually.js";

const KEY = Buffer.from("kdump-key-0123456789");
const OTHER = Buffer.from("not-the-right-key-999");

async function count(registry: Registry, result: string): Promise<number> {
  const m = await registry.getSingleMetric("vmkeeper_kdump_notices_total")?.get();
  return m?.values.find((v) => v.labels.result === result)?.value ?? 0;
}

describe("kdump notices", () => {
  it("parses what it signs and refuses malformed or oversize datagrams", () => {
    const text = signKdumpNotice("compute-1", "started", 1_700_000_000_000, KEY);
    assert.equal(parseKdumpNotice(Buffer.from(text))?.host, "compute-1");
    for (const bad of ["", "VMKD1 compute-1 started 1 zz", "VMKD2 compute-1 started 1 " + "a".repeat(64), "VMKD1 bad;host started 1 " + "a".repeat(64), "x".repeat(600)]) {
      assert.equal(parseKdumpNotice(Buffer.from(bad)), undefined, bad);
    }
  });

  it("only an authenticated, fresh notice says the host is dumping; spoofed ones are counted and ignored (F21)", async () => {
    const clock = new FakeClock(new Date());
    const registry = new Registry();
    const rx = new KdumpReceiver(clock, registry);
    rx.ingest(Buffer.from(signKdumpNotice("compute-1", "started", clock.now().getTime(), OTHER)));
    assert.deepEqual(rx.state("compute-1", KEY), { dumping: false, finished: false });
    assert.deepEqual(rx.state("compute-1", KEY), { dumping: false, finished: false });
    assert.equal(await count(registry, "rejected"), 1, "a spoofed notice is counted once, however often fencing asks");
    rx.ingest(Buffer.from(signKdumpNotice("compute-1", "started", clock.now().getTime(), KEY)));
    assert.deepEqual(rx.state("compute-1", KEY), { dumping: true, finished: false });
    assert.deepEqual(rx.state("compute-2", KEY), { dumping: false, finished: false });
    rx.ingest(Buffer.from(signKdumpNotice("compute-1", "done", clock.now().getTime(), KEY)));
    assert.deepEqual(rx.state("compute-1", KEY), { dumping: true, finished: true });
    await clock.advance(31_000);
    assert.equal(rx.state("compute-1", KEY).dumping, false, "notices older than 30 s no longer count");
    rx.ingest(Buffer.from(signKdumpNotice("compute-1", "started", clock.now().getTime() - 600_000, KEY)));
    assert.equal(rx.state("compute-1", KEY).dumping, false, "a replayed old notice does not count");
    rx.ingest(Buffer.from("garbage"));
    assert.equal(await count(registry, "malformed"), 1);
  });

  it("receives notices over UDP on loopback", async () => {
    const rx = new KdumpReceiver(new SystemClock(), new Registry());
    const port = await rx.listen("127.0.0.1", 0);
    const tx = createSocket("udp4");
    try {
      await eventually(() => {
        tx.send(signKdumpNotice("compute-9", "started", Date.now(), KEY), port, "127.0.0.1");
        assert.equal(rx.state("compute-9", KEY).dumping, true);
      });
    } finally {
      tx.close();
      await rx.close();
    }
  });
});

describe("kdump shell sender (deploy/kdump/vmkeeper-kdump-notify.sh)", () => {
  it("produces notices the receiver authenticates", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kdump-"));
    const rx = new KdumpReceiver(new SystemClock(), new Registry());
    const port = await rx.listen("127.0.0.1", 0);
    try {
      writeFileSync(join(dir, "key"), `${KEY.toString()}\n`);
      execFileSync("bash", ["deploy/kdump/vmkeeper-kdump-notify.sh", "compute-7", join(dir, "key"), "127.0.0.1", String(port), "done"]);
      await eventually(() => assert.deepEqual(rx.state("compute-7", KEY), { dumping: true, finished: true }), 5_000);
    } finally {
      await rx.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
