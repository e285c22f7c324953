import assert from "node:assert/strict";
import { KubeEventRecorder, type EventObject, type EventSink } from "../../../src/kube/event-recorder.js";
import { FakeClock } from "../../../src/util/fake-clock.js";
import { silentLogger } from "../../../src/util/logger.js";

class MemorySink implements EventSink {
  created: EventObject[] = [];
  patches: { name: string; patch: unknown }[] = [];
  fail = false;
  async create(e: EventObject): Promise<EventObject> {
    if (this.fail) throw new Error("API down");
    this.created.push(e);
    return e;
  }
  async mergePatch(_ns: string, name: string, patch: unknown): Promise<EventObject> {
    this.patches.push({ name, patch });
    return {};
  }
}

const host = { apiVersion: "ha.vmkeeper.dev/v1alpha1", kind: "ComputeHost", metadata: { name: "compute-1", namespace: "ns", uid: "u1" } };

describe("KubeEventRecorder", () => {
  it("creates an events.k8s.io/v1 event, then counts repeats in its series", async () => {
    const clock = new FakeClock();
    const sink = new MemorySink();
    const rec = new KubeEventRecorder(sink, "vmkeeper-0", clock, silentLogger());
    await rec.record(host, "Warning", "FencingFailed", "Fence", "level 1 failed");
    await rec.record(host, "Warning", "FencingFailed", "Fence", "level 1 failed");
    await rec.record(host, "Warning", "FencingFailed", "Fence", "level 1 failed");
    assert.equal(sink.created.length, 1);
    const e = sink.created[0]!;
    assert.equal(e.reportingController, "ha.vmkeeper.dev/operator");
    assert.equal(e.reportingInstance, "vmkeeper-0");
    assert.equal(e.regarding?.uid, "u1");
    assert.equal(e.metadata?.namespace, "ns");
    assert.match(e.eventTime ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, "MicroTime");
    assert.deepEqual(sink.patches.map((p) => (p.patch as { series: { count: number } }).series.count), [2, 3]);
    await clock.advance(11 * 60_000);
    await rec.record(host, "Warning", "FencingFailed", "Fence", "level 1 failed");
    assert.equal(sink.created.length, 2, "after the series window a new event starts");
  });

  it("truncates long notes and never throws when the API fails", async () => {
    const sink = new MemorySink();
    const rec = new KubeEventRecorder(sink, "x", new FakeClock(), silentLogger());
    await rec.record(host, "Normal", "R", "A", "x".repeat(5000));
    assert.equal(sink.created[0]?.note?.length, 1024);
    sink.fail = true;
    await rec.record(host, "Normal", "Other", "A", "n");
  });
});
