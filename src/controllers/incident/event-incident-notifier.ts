import type { Incident } from "../../api/v1alpha1/index.js";
import type { EventRecorder } from "../../kube/event-recorder.js";
import type { IncidentNotifier } from "./incident-notifier.js";

/** Optional second channel (the owner's webhook), fed after the Event is recorded. */
export interface IncidentWebhookSink {
  detected(incident: Incident): void;
  suppressed(incident: Incident): void;
  finished(incident: Incident): void;
}

/**
 * Every detected failure becomes a Warning Event on the Incident (what `kubectl get events`
 * and alerting on Events see), and is handed to the webhook sink where one is configured.
 */
export class EventIncidentNotifier implements IncidentNotifier {
  constructor(
    private readonly events: EventRecorder,
    private readonly webhooks?: IncidentWebhookSink,
  ) {}

  async incidentDetected(incident: Incident): Promise<void> {
    const host = incident.spec.serviceHost ?? incident.spec.hostRef.name;
    this.webhooks?.detected(incident);
    await this.events.record(incident, "Warning", "HostFailed", "Detect", `compute host ${host} failed (epoch ${incident.spec.epoch}): ${incident.spec.reason ?? "no heartbeat and a second channel agrees"}`);
  }

  /** The host monitor already recorded the Warning Event `Suppressed`; only the owners' webhook is left. */
  async incidentSuppressed(incident: Incident): Promise<void> {
    this.webhooks?.suppressed(incident);
    return Promise.resolve();
  }

  async incidentFinished(incident: Incident): Promise<void> {
    this.webhooks?.finished(incident);
    return Promise.resolve();
  }
}
