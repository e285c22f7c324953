import type { IncidentNotification } from "../api/v1alpha1/index.js";
import type { DeliveryReport } from "./webhook-notifier.js";

const MAX_ERROR = 1024;

/**
 * The Incident's status.notification after a delivery report; pure. `sentAt` is the first
 * time anything was sent (or refused) for the incident and never moves; `deliveredAt` is the
 * latest delivery; `attempts` and `lastError` describe the latest event reported, and a
 * delivery clears the error. Several events of one incident share this one record.
 */
export function mergeNotificationStatus(previous: IncidentNotification | undefined, report: DeliveryReport): IncidentNotification {
  const sentAt = previous?.sentAt ?? (report.firstAttemptAt ?? report.enqueuedAt).toISOString();
  const deliveredAt = report.outcome === "delivered" && report.deliveredAt ? report.deliveredAt.toISOString() : previous?.deliveredAt;
  const lastError = report.outcome === "delivered" ? undefined : report.lastError?.slice(0, MAX_ERROR);
  return {
    sentAt,
    ...(deliveredAt !== undefined ? { deliveredAt } : {}),
    attempts: report.attempts,
    ...(lastError !== undefined ? { lastError: `${report.outcome}: ${lastError}`.slice(0, MAX_ERROR) } : {}),
  };
}

/**
 * The Incident's notification with deliveries folded in (`reported`: mergeNotificationStatus
 * of the reports since the last write, from nothing). The workflow's own marks — `sentAt`
 * (the detected event was queued) and `suppressedSentAt` — are kept as they are: a delivery
 * report never stands in for them.
 */
export function withDeliveries(current: IncidentNotification | undefined, reported: IncidentNotification): IncidentNotification {
  const deliveredAt = reported.deliveredAt ?? current?.deliveredAt;
  const attempts = reported.attempts ?? current?.attempts;
  return {
    ...(current?.sentAt !== undefined ? { sentAt: current.sentAt } : {}),
    ...(current?.suppressedSentAt !== undefined ? { suppressedSentAt: current.suppressedSentAt } : {}),
    ...(deliveredAt !== undefined ? { deliveredAt } : {}),
    ...(attempts !== undefined ? { attempts } : {}),
    ...(reported.lastError !== undefined ? { lastError: reported.lastError } : {}),
  };
}
