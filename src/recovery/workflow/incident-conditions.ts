import type { IncidentStatus } from "../../api/v1alpha1/index.js";
import { setCondition } from "../../kube/conditions.js";

const TERMINAL = new Set(["Recovered", "Failed", "Notified"]);
const AFTER_CONFIRMED = new Set(["Confirmed", "Fencing", "FencingFailed", "Fenced", "Evacuating", ...TERMINAL]);

/**
 * Sets the Incident's conditions from what its status records (pure; the phase is their
 * summary): Notified (owners told), Confirmed (a gate-checked failure, or Suppressed by a
 * gate), Suppressed, Fenced (power read back Off — or skipped, unsafely — and Nova
 * forced_down and disabled), Evacuated (every instance that was to move has), Recovered and
 * Failed at the end. HostReenabled is kept by the host-return planner. lastTransitionTime
 * moves only when a condition's status changes.
 */
export function setIncidentConditions(status: IncidentStatus, nowIso: string): void {
  const now = new Date(nowIso);
  const set = (type: string, s: "True" | "False" | "Unknown", reason: string, message: string): void => {
    status.conditions = setCondition(status.conditions, { type, status: s, reason, message: message.slice(0, 1024) }, now);
  };
  const has = (type: string): boolean => (status.conditions ?? []).some((c) => c.type === type);
  const phase = status.phase ?? "";
  const n = status.notification;
  if (n?.sentAt || n?.suppressedSentAt) set("Notified", "True", n.sentAt ? "OwnersNotified" : "OwnersToldSuppressed", n.sentAt ? "the owners were told of the failure" : "the owners were told that a safety gate holds the recovery back");

  if (phase === "Suppressed") {
    const gate = status.gate;
    set("Suppressed", "True", gate?.reason ?? "GateClosed", gate?.message ?? `${gate?.name ?? "a safety gate"} holds the recovery back`);
    set("Confirmed", "False", "Suppressed", `held back by ${gate?.name ?? "a safety gate"}`);
    return;
  }
  if (has("Suppressed")) set("Suppressed", "False", "Released", "no safety gate holds the recovery back any more");
  if (AFTER_CONFIRMED.has(phase) || status.timestamps?.confirmedAt) set("Confirmed", "True", "FailureConfirmed", "the host failure is corroborated and no safety gate blocks the recovery");

  const instances = status.instances ?? [];
  const moving = instances.filter((i) => i.state !== "Notified" && i.state !== "Skipped");
  const f = status.fencing;
  if (moving.length > 0 && (f || phase === "Fencing" || phase === "FencingFailed")) {
    if (f?.forcedDown && f.serviceDisabled && (f.powerReadBackOff || f.unsafeSkipped)) {
      set("Fenced", "True", f.powerReadBackOff ? "PowerOff" : "UnsafeFencingSkipped", f.powerReadBackOff ? `power read back Off${f.level ? ` (level ${f.level})` : ""}, nova-compute forced down and disabled` : "no power fencing (recovery.unsafeSkipPowerFencing); nova-compute forced down and disabled");
    } else if (phase === "FencingFailed") {
      set("Fenced", "False", "FencingFailed", `fencing failed (attempt ${f?.attempts ?? 0}); nothing is evacuated until the host is fenced`);
    } else {
      set("Fenced", "False", "Fencing", f?.powerReadBackOff || f?.unsafeSkipped ? "forcing nova-compute down and disabling it" : "powering the host off");
    }
  }
  if (moving.length > 0 && (phase === "Evacuating" || TERMINAL.has(phase))) {
    const done = moving.filter((i) => i.state === "Recovered" || i.state === "Failed");
    const failed = moving.filter((i) => i.state === "Failed").length;
    if (done.length === moving.length) set("Evacuated", failed === 0 ? "True" : "False", failed === 0 ? "AllMoved" : "SomeFailed", `${done.length - failed} of ${moving.length} recovered elsewhere, ${failed} failed`);
    else set("Evacuated", "False", "InProgress", `${done.length} of ${moving.length} done, ${moving.length - done.length} in progress or waiting`);
  }
  if (phase === "Recovered") set("Recovered", "True", "Recovered", `every protected instance is running elsewhere (${status.summary?.recovered ?? 0})`);
  if (phase === "Failed") {
    const s = status.summary;
    const skipped = instances.filter((i) => i.state === "Skipped").length;
    set("Recovered", "False", "Failed", `${s?.recovered ?? 0} recovered, ${s?.failed ?? 0} failed, ${skipped} skipped`);
    set("Failed", "True", (s?.failed ?? 0) > 0 ? "EvacuationFailed" : "InstancesSkipped", `${s?.failed ?? 0} failed, ${skipped} skipped (see status.instances)`);
  }
}
