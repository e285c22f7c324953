/**
 * An Unhealthy reason made only of application parts (`app <name>: ...`, joined by "; "),
 * as vmkeeper-guest builds it: the application layer failed while the guest's own checks
 * passed. The host session counts such responses against the application threshold and the
 * planner acts on them under `appMonitoring`.
 */
export function isAppOnly(reason: string | undefined): boolean {
  if (!reason) return false;
  const parts = reason.split("; ").filter((p) => p.trim() !== "");
  return parts.length > 0 && parts.every((p) => p.startsWith("app "));
}
