import type { ComputeHost, HostFencing, Incident, InstanceHAPolicy, InstanceHAPolicySpec } from "../../../src/api/v1alpha1/index.js";
import type { Instance } from "../../../src/controllers/instance-ha-policy/instance-inventory.js";
import type { ComputeService, Hypervisor, ServerGroup } from "../../../src/openstack/nova-types.js";
import type { ProtectedInstance, RecoveryMethod, WorkflowSettings } from "../../../src/recovery/workflow/workflow-model.js";
import type { WhatIfWorld } from "../../../src/what-if/what-if.js";

export const NOW = Date.parse("2026-11-30T12:00:00Z");

export interface HostSpec {
  /** The service host; the ComputeHost is `lab.<name>`. */
  name: string;
  memoryMb?: number;
  state?: "Healthy" | "Degraded" | "Suspect" | "Failed" | "Unknown";
  maintenance?: boolean;
  /** Disabled in Nova with this reason. */
  disabled?: string;
  aggregates?: string[];
}

export interface VmSpec {
  name: string;
  host: string;
  ramMb: number;
  tier?: string;
  priority?: number;
  methods?: RecoveryMethod[];
  reservedHosts?: string[];
  group?: string;
}

export interface WorldSpec {
  hosts: HostSpec[];
  vms: VmSpec[];
  failing: string[];
  policy?: Partial<InstanceHAPolicySpec>;
  settings?: Partial<WorkflowSettings>;
  /** A HostFencing selecting every host: devices reachable, or not. */
  fencing?: "ready" | "notReady";
  /** Server groups with a hard policy: name → policy. */
  groups?: Record<string, "affinity" | "anti-affinity">;
  incidents?: Incident[];
}

const SETTINGS: WorkflowSettings = {
  maxConcurrentEvacuations: 8,
  evacuationTimeoutMs: 600_000,
  lockInstances: true,
  unsafeSkipPowerFencing: true,
  conflictRetryMs: 5_000,
  maxEvacuationAttempts: 5,
  maxConcurrentEvacuationsPerTargetHost: 4,
  hostReenable: "Manual",
};

/**
 * A what-if world for unit tests: ComputeHosts `lab.<host>` with their Nova services and
 * hypervisors (64 vCPU, 1 TB disk, RAM as given, 512 MiB reserved), volume-backed VMs of
 * the given RAM, one KeepRunning policy, and the protection the executor would resolve.
 */
export function world(spec: WorldSpec): WhatIfWorld {
  const hosts: ComputeHost[] = spec.hosts.map((h) => ({
    apiVersion: "ha.vmkeeper.dev/v1alpha1",
    kind: "ComputeHost",
    metadata: { name: `lab.${h.name}`, namespace: "ns" },
    spec: { cloudRef: { name: "lab" }, serviceHost: h.name, ...(h.maintenance ? { maintenance: { enabled: true } } : {}) },
    status: {
      health: { state: h.state ?? "Healthy", since: "2026-11-30T11:00:00Z" },
      nova: { serviceId: `svc-${h.name}`, state: "Up", status: h.disabled ? "Disabled" : "Enabled", forcedDown: false, ...(h.disabled ? { disabledReason: h.disabled } : {}) },
      aggregates: h.aggregates ?? [],
    },
  }));
  const services: ComputeService[] = spec.hosts.map((h) => ({ id: `svc-${h.name}`, binary: "nova-compute", host: h.name, status: h.disabled ? "disabled" : "enabled", state: "up", forcedDown: false, disabledReason: h.disabled ?? null, updatedAt: "2026-11-30T11:59:50.000000" }));
  const hypervisors: Hypervisor[] = spec.hosts.map((h) => ({
    id: `hv-${h.name}`,
    hypervisorHostname: h.name,
    serviceHost: h.name,
    vcpus: 64,
    vcpusUsed: spec.vms.filter((v) => v.host === h.name).length,
    memoryMb: h.memoryMb ?? 16_384,
    memoryMbUsed: 512 + spec.vms.filter((v) => v.host === h.name).reduce((n, v) => n + v.ramMb, 0),
    localGb: 1000,
    localGbUsed: 0,
  }));
  const instances: Instance[] = spec.vms.map((v) => ({
    id: `id-${v.name}`,
    name: v.name,
    projectId: "p",
    host: v.host,
    status: "ACTIVE",
    vmState: "active",
    flavor: { vcpus: 1, ramMiB: v.ramMb, diskGiB: 0 },
    imageId: "",
    volumeBacked: true,
    localRootDisk: false,
    tags: [],
    metadata: {},
    serverGroups: v.group ? [{ id: `g-${v.group}`, name: v.group }] : [],
  }));
  const serverGroups: ServerGroup[] = Object.entries(spec.groups ?? {}).map(([name, policy]) => ({ id: `g-${name}`, name, policy, rules: {}, members: spec.vms.filter((v) => v.group === name).map((v) => `id-${v.name}`) }));
  const policy: InstanceHAPolicy = { apiVersion: "ha.vmkeeper.dev/v1alpha1", kind: "InstanceHAPolicy", metadata: { name: "keep", namespace: "ns" }, spec: { cloudRef: { name: "lab" }, selector: {}, ...spec.policy } };
  const settings = { ...SETTINGS, ...spec.settings };
  const protection = new Map(
    spec.failing.map((f) => [
      `lab.${f}`,
      {
        settings,
        instances: spec.vms
          .filter((v) => v.host === f)
          .map((v): ProtectedInstance => ({ id: `id-${v.name}`, name: v.name, policy: "keep", mode: "KeepRunning", tier: v.tier ?? "default", tierPriority: v.priority ?? 0, tierReadinessTimeoutMs: 120_000, localDiskRefused: false, recentRecoveries: 0, maxRecoveries: 3, methods: v.methods ?? ["Evacuate"], reservedHosts: v.reservedHosts ?? [] })),
      },
    ]),
  );
  return {
    cloud: "lab",
    nowMs: NOW,
    hosts,
    policies: [policy],
    incidents: spec.incidents ?? [],
    services,
    hostFencings: spec.fencing ? [hostFencing(spec.hosts.map((h) => `lab.${h.name}`), spec.fencing === "ready")] : [],
    instances,
    serverGroups,
    hypervisors,
    allocationRatios: { vcpu: 1, memory: 1, disk: 1 },
    protection,
  };
}

function hostFencing(names: string[], reachable: boolean): HostFencing {
  return {
    apiVersion: "ha.vmkeeper.dev/v1alpha1",
    kind: "HostFencing",
    metadata: { name: "bmc", namespace: "ns" },
    spec: { cloudRef: { name: "lab" }, hostSelector: { names }, levels: [{ name: "ipmi", devices: [{ name: "bmc", kind: "IPMI" }] }] },
    status: { hosts: names.map((name) => ({ name, devices: [{ level: "ipmi", device: "bmc", reachable, ...(reachable ? { powerState: "On" as const } : { lastError: "connection refused" }) }] })) },
  };
}
