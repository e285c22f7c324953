import type { IncidentNotification } from "../../api/v1alpha1/index.js";
import { mergeNotificationStatus } from "../../notify/notification-status.js";
import type { DeliveryReport } from "../../notify/webhook-notifier.js";

interface Pending {
  notification: IncidentNotification;
  version: number;
}

/**
 * Webhook delivery reports on their way to the Incidents' status.notification. Deliveries
 * finish in the background while the incident workflow is writing its status with
 * compare-and-swap; patching the Incident from here would make those writes fail with 409
 * (often between a side effect and its recorded result). Instead the reports are folded
 * here per incident and the incident's key is queued: the reconciler writes them with its
 * own CAS write at the start of its next pass and acknowledges them (`take`/`ack`), so
 * there is one writer of the Incident's status.
 */
export class NotificationDeliveries {
  private readonly pending = new Map<string, Pending>();
  private readonly listeners: ((incidentKey: string) => void)[] = [];
  private version = 0;

  /** For NotifierRegistry's onReport: `policyKey` is `namespace/policy`, the report's subject the incident. */
  report(policyKey: string, report: DeliveryReport): void {
    const slash = policyKey.indexOf("/");
    if (slash < 0 || !report.subject) return;
    const key = `${policyKey.slice(0, slash)}/${report.subject}`;
    const prev = this.pending.get(key);
    this.pending.set(key, { notification: mergeNotificationStatus(prev?.notification, report), version: ++this.version });
    for (const l of this.listeners) l(key);
  }

  /** Calls `listener` with the incident key (`namespace/name`) after each report; returns the unsubscribe. */
  onReport(listener: (incidentKey: string) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  take(incidentKey: string): Pending | undefined {
    return this.pending.get(incidentKey);
  }

  /** Forgets what was written, unless a newer report arrived meanwhile. */
  ack(incidentKey: string, version: number): void {
    if (this.pending.get(incidentKey)?.version === version) this.pending.delete(incidentKey);
  }

  /** The incident is gone: nothing to write. */
  drop(incidentKey: string): void {
    this.pending.delete(incidentKey);
  }
}
