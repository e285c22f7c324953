import type { Incident } from "../../api/v1alpha1/index.js";

/** Tells owners about an incident: a Kubernetes Event always, a webhook where configured. */
export interface IncidentNotifier {
  /** Must return quickly: delivery happens in the background. */
  incidentDetected(incident: Incident): Promise<void>;
  /** A safety gate holds the recovery back (the Event is recorded by the host monitor). */
  incidentSuppressed(incident: Incident): Promise<void>;
  incidentFinished(incident: Incident): Promise<void>;
}
