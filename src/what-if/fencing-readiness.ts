import type { ComputeHost, HostFencing } from "../api/v1alpha1/index.js";
import { hostFencingsFor } from "../fencing/select-fenced-hosts.js";

/** How ready a host's fencing is, from the HostFencing that selects it and its last device probes. */
export interface FencingReadiness {
  state: "Ready" | "NotReady" | "Unknown" | "NotConfigured" | "Conflict";
  hostFencing?: string;
  /** The first level whose devices were all reachable at their last check. */
  readyLevel?: string;
  message: string;
}

/**
 * A host's fencing readiness; pure. The HostFencing that selects it (hostFencingsFor, as the
 * fencing provider chooses it), and per level whether every device was reachable at its last
 * probe (status.hosts[].devices, written by the HostFencing controller). Unknown while the
 * controller has not probed the host yet.
 */
export function fencingReadiness(host: ComputeHost, all: readonly HostFencing[]): FencingReadiness {
  const name = host.metadata?.name ?? "";
  const matches = hostFencingsFor(host, all);
  const [hf] = matches;
  if (!hf) return { state: "NotConfigured", message: `no HostFencing selects ${name}` };
  const hostFencing = hf.metadata?.name ?? "";
  if (matches.length > 1) return { state: "Conflict", hostFencing, message: `selected by several HostFencings (${matches.map((m) => m.metadata?.name).join(", ")}); not fenced until only one selects it` };
  const devices = hf.status?.hosts?.find((h) => h.name === name)?.devices ?? [];
  if (devices.length === 0) return { state: "Unknown", hostFencing, message: `HostFencing ${hostFencing} has not probed the devices of ${name} yet` };
  for (const level of hf.spec.levels) {
    const mine = devices.filter((d) => d.level === level.name);
    if (mine.length > 0 && mine.every((d) => d.reachable === true)) return { state: "Ready", hostFencing, readyLevel: level.name, message: `level ${level.name} of HostFencing ${hostFencing} has every device reachable` };
  }
  const broken = devices.filter((d) => d.reachable !== true).map((d) => `${d.level}/${d.device}${d.lastError ? ` (${d.lastError})` : ""}`);
  return { state: "NotReady", hostFencing, message: `no level of HostFencing ${hostFencing} has every device reachable: ${broken.join(", ")}` };
}
