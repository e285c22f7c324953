import assert from "node:assert/strict";
import type { Incident, InstanceHAPolicy } from "../../../src/api/v1alpha1/index.js";
import { NotificationDeliveries } from "../../../src/controllers/incident/notification-deliveries.js";
import type { ResourceClient } from "../../../src/kube/resource-client.js";
import type { KubeObject } from "../../../src/kube/resource-type.js";
import type { HttpPoster, WebhookPost, WebhookResponse } from "../../../src/notify/http-poster.js";
import { NotifierRegistry } from "../../../src/notify/notifier-registry.js";
import { WebhookIncidentSink } from "../../../src/operator/webhook-incident-sink.js";
import { SystemClock } from "../../../src/util/clock.js";
import { silentLogger } from "../../../src/util/logger.js";

const policy: InstanceHAPolicy = {
  apiVersion: "ha.vmkeeper.dev/v1alpha1",
  kind: "InstanceHAPolicy",
  metadata: { name: "web", namespace: "team-a" },
  spec: { cloudRef: { name: "lab" }, mode: "NotifyOnly", selector: { allInstances: true }, notification: { webhook: { url: "http://127.0.0.1:9/hook", allowHTTP: true } } },
};

const incident: Incident = {
  apiVersion: "ha.vmkeeper.dev/v1alpha1",
  kind: "Incident",
  metadata: { name: "lab.compute-1-3", namespace: "team-a" },
  spec: { cloudRef: { name: "lab" }, hostRef: { name: "lab.compute-1" }, serviceHost: "compute-1", epoch: 3, trigger: "HostFailure", detectedAt: "2026-01-01T00:00:00Z" },
  status: { phase: "Suppressed", gate: { name: "StormThreshold", reason: "StormThreshold", message: "3 of 5 hosts failed within 600 s" }, instances: [{ id: "vm-1", name: "web-1", policy: "web", state: "Notified" }] },
};

class RecordingPoster implements HttpPoster {
  readonly bodies: string[] = [];
  async post(req: WebhookPost): Promise<WebhookResponse> {
    this.bodies.push(req.body);
    return { status: 204, headers: {} };
  }
}

describe("WebhookIncidentSink", () => {
  it("sends the suppressed event (with the gate) to the owner's webhook, and the delivery is reported for the Incident", async () => {
    const poster = new RecordingPoster();
    const deliveries = new NotificationDeliveries();
    const registry = new NotifierRegistry({ poster, clock: new SystemClock(), logger: silentLogger(), onReport: (key, r) => deliveries.report(key, r) });
    const secrets = { get: () => Promise.resolve(undefined) } as unknown as ResourceClient<KubeObject & { data?: Record<string, string> }>;
    const sink = new WebhookIncidentSink({ registry, getPolicy: () => policy, secrets, clock: new SystemClock(), log: silentLogger() });
    sink.suppressed(incident);
    await new Promise((r) => setTimeout(r, 20));
    await registry.flush();
    await new Promise((r) => setTimeout(r, 10));
    const [body] = poster.bodies;
    const event = JSON.parse(body ?? "{}") as { type: string; id: string; data: { gate?: { name: string }; phase: string } };
    assert.equal(event.type, "dev.vmkeeper.incident.suppressed");
    assert.equal(event.id, "lab.compute-1-3/suppressed/web");
    assert.equal(event.data.gate?.name, "StormThreshold");
    assert.equal(event.data.phase, "Suppressed");
    assert.equal(typeof deliveries.take("team-a/lab.compute-1-3")?.notification.deliveredAt, "string");
    await registry.close(100);
  });
});
