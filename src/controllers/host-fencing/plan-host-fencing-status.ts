import type { Condition, ComputeHost, HostFencing, HostFencingHost, HostFencingHostDevice, HostFencingStatus, Incident } from "../../api/v1alpha1/index.js";
import { setCondition } from "../../kube/conditions.js";

export const CONDITION_DEVICES_READY = "DevicesReady";
export const CONDITION_HOSTS_SELECTED = "HostsSelected";
export const CONDITION_CONFLICT = "Conflict";
export const CONDITION_TEST_DEVICE = "TestDevice";

export interface HostFencingObservation {
  hf: HostFencing;
  selected: readonly ComputeHost[];
  /** Other HostFencings that also select a host, by host name. */
  conflicts: ReadonlyMap<string, string[]>;
  /** Fresh probes from this pass, by host name; hosts absent here keep their last probe. */
  probes: ReadonlyMap<string, HostFencingHostDevice[]>;
  incidents: readonly Incident[];
  now: Date;
}

/** The whole status of a HostFencing from what was observed; pure, so every rule is unit-tested. */
export function planHostFencingStatus(o: HostFencingObservation): HostFencingStatus {
  const previous = new Map((o.hf.status?.hosts ?? []).map((h) => [h.name, h]));
  const hosts = o.selected
    .map((h) => h.metadata?.name ?? "")
    .sort()
    .map((name): HostFencingHost => {
      const devices = o.probes.get(name) ?? previous.get(name)?.devices ?? [];
      const last = lastFencing(name, o.hf.metadata?.name ?? "", o.incidents);
      return { name, ...(o.conflicts.has(name) ? { conflict: true } : {}), devices, ...(last ? { lastFencing: last } : {}) };
    });
  const unfenceable = hosts.filter((h) => h.conflict || !fenceable(o.hf, h.devices ?? []));
  const gen = o.hf.metadata?.generation;
  let conditions: Condition[] = o.hf.status?.conditions ?? [];
  const set = (type: string, status: "True" | "False", reason: string, message: string): void => {
    conditions = setCondition(conditions, { type, status, reason, message }, o.now, gen);
  };
  set(CONDITION_HOSTS_SELECTED, hosts.length > 0 ? "True" : "False", hosts.length > 0 ? "Selected" : "NoHostsSelected", hosts.length > 0 ? `${hosts.length} ComputeHost(s) selected` : "the host selector matches no ComputeHost of the cloud");
  const conflicted = hosts.filter((h) => h.conflict);
  set(CONDITION_CONFLICT, conflicted.length > 0 ? "True" : "False", conflicted.length > 0 ? "HostsSelectedTwice" : "NoConflict", conflicted.length > 0 ? conflictMessage(conflicted, o.conflicts) : "no selected host is selected by another HostFencing");
  if (unfenceable.length === 0) set(CONDITION_DEVICES_READY, "True", "AllHostsFenceable", hosts.length > 0 ? "every selected host has a level whose devices all answered the last probe" : "no hosts selected");
  else set(CONDITION_DEVICES_READY, "False", "HostsUnfenceable", `${unfenceable.length} host(s) cannot be fenced now: ${unfenceable.slice(0, 5).map((h) => `${h.name} (${why(h)})`).join("; ")}${unfenceable.length > 5 ? "; ..." : ""}`.slice(0, 32768));
  const noop = o.hf.spec.levels.flatMap((l) => l.devices).filter((d) => d.kind === "Noop");
  if (noop.length > 0) set(CONDITION_TEST_DEVICE, "True", "NoopDeviceInUse", `device(s) ${noop.map((d) => d.name).join(", ")} are Noop: they power nothing off and prove nothing; for tests only`);
  else conditions = conditions.filter((c) => c.type !== CONDITION_TEST_DEVICE);
  return {
    ...(gen !== undefined ? { observedGeneration: gen } : {}),
    conditions,
    selectedHostCount: hosts.length,
    unfenceableHostCount: unfenceable.length,
    hosts,
  };
}

/** Some level has every power device reachable at the last probe (Kdump devices only delay power-off). */
export function fenceable(hf: HostFencing, devices: readonly HostFencingHostDevice[]): boolean {
  return hf.spec.levels.some((l) => {
    const power = l.devices.filter((d) => d.kind !== "Kdump");
    return power.length > 0 && power.every((d) => devices.find((x) => x.level === l.name && x.device === d.name)?.reachable === true);
  });
}

function why(h: HostFencingHost): string {
  if (h.conflict) return "selected by another HostFencing";
  const errors = (h.devices ?? []).filter((d) => !d.reachable);
  if ((h.devices ?? []).length === 0) return "not probed yet";
  return errors.map((d) => `${d.level}/${d.device}: ${d.lastError ?? "unreachable"}`).join(", ");
}

function conflictMessage(hosts: HostFencingHost[], conflicts: ReadonlyMap<string, string[]>): string {
  return `not fenced until only one HostFencing selects them: ${hosts.slice(0, 5).map((h) => `${h.name} (also ${(conflicts.get(h.name) ?? []).join(", ")})`).join("; ")}${hosts.length > 5 ? "; ..." : ""}`;
}

/** The newest Incident of the host fenced (or tried) through this HostFencing. */
function lastFencing(host: string, hostFencing: string, incidents: readonly Incident[]): HostFencingHost["lastFencing"] {
  const mine = incidents
    .filter((i) => i.spec.hostRef.name === host && i.status?.fencing?.hostFencingRef?.name === hostFencing && (i.status.fencing.attempts ?? 0) > 0)
    .sort((a, b) => (a.spec.detectedAt < b.spec.detectedAt ? 1 : -1));
  const i = mine[0];
  if (!i) return undefined;
  const f = i.status?.fencing ?? {};
  const ok = f.powerReadBackOff === true;
  const lastDevice = [...(f.devices ?? [])].sort((a, b) => ((a.time ?? "") < (b.time ?? "") ? 1 : -1))[0];
  return {
    incidentRef: { name: i.metadata?.name ?? "" },
    result: ok ? "Succeeded" : "Failed",
    ...(f.level ? { level: f.level } : {}),
    ...(i.status?.timestamps?.fencedAt ?? lastDevice?.time ? { time: i.status?.timestamps?.fencedAt ?? lastDevice?.time } : {}),
    message: (ok ? `power read back Off (level ${f.level ?? "?"})` : (f.devices ?? []).filter((d) => d.result !== "Succeeded").map((d) => `${d.level}/${d.device}: ${d.message ?? d.result}`).join("; ") || "fencing failed").slice(0, 1024),
  };
}
