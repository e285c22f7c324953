import type { Incident, InstanceHAPolicy } from "../api/v1alpha1/index.js";
import type { IncidentWebhookSink } from "../controllers/incident/event-incident-notifier.js";
import type { ResourceClient } from "../kube/resource-client.js";
import type { KubeObject } from "../kube/resource-type.js";
import { buildIncidentEvent, incidentEventInput, type IncidentEventName } from "../notify/incident-event.js";
import type { NotifierRegistry } from "../notify/notifier-registry.js";
import { webhookEndpointFromSpec } from "../notify/webhook-endpoint.js";
import type { Clock } from "../util/clock.js";
import type { Logger } from "../util/logger.js";

type SecretObject = KubeObject & { data?: Record<string, string> };

/**
 * Sends each policy's owner the incident's CloudEvent through the notifier registry. The
 * endpoint is (re)synchronised from the policy and its Secrets at send time, so a rotated
 * HMAC key or a changed URL applies to the next event without a restart. Never blocks the
 * workflow: secret reads are best effort and delivery is queued.
 */
export class WebhookIncidentSink implements IncidentWebhookSink {
  constructor(
    private readonly d: {
      registry: NotifierRegistry;
      getPolicy: (namespace: string, name: string) => InstanceHAPolicy | undefined;
      secrets: ResourceClient<SecretObject>;
      clock: Clock;
      log: Logger;
    },
  ) {}

  detected(incident: Incident): void {
    void this.send(incident, "detected");
  }

  suppressed(incident: Incident): void {
    void this.send(incident, "suppressed");
  }

  finished(incident: Incident): void {
    const phase = incident.status?.phase;
    if (phase === "Recovered") void this.send(incident, "recovered");
    else if (phase === "Failed") void this.send(incident, "failed");
  }

  private async send(incident: Incident, name: IncidentEventName): Promise<void> {
    const ns = incident.metadata?.namespace ?? "";
    const names = [...new Set((incident.status?.instances ?? []).map((i) => i.policy).filter((p): p is string => !!p))];
    for (const policyName of names) {
      try {
        const policy = this.d.getPolicy(ns, policyName);
        const webhook = policy?.spec.notification?.webhook;
        if (!policy || !webhook) continue;
        const key = `${ns}/${policyName}`;
        const hmac = webhook.hmacSecretRef ? await this.d.secrets.get(ns, webhook.hmacSecretRef.name) : undefined;
        const ca = webhook.caBundleSecretRef ? await this.d.secrets.get(ns, webhook.caBundleSecretRef.name) : undefined;
        const hmacB64 = hmac?.data?.[webhook.hmacSecretRef?.key ?? "key"];
        const caB64 = ca?.data?.[webhook.caBundleSecretRef?.key ?? "ca.crt"];
        this.d.registry.sync(key, webhookEndpointFromSpec(webhook, {
          ...(hmacB64 ? { hmacKey: Buffer.from(hmacB64, "base64") } : {}),
          ...(caB64 ? { caPem: Buffer.from(caB64, "base64").toString("utf8") } : {}),
        }));
        this.d.registry.enqueue(key, buildIncidentEvent(name, incidentEventInput(incident, this.d.clock.now()), { policy: policyName }));
      } catch (err: unknown) {
        this.d.log.warn({ incident: incident.metadata?.name, policy: policyName, err: err instanceof Error ? err.message : String(err) }, "could not queue the owner notification");
      }
    }
  }
}
