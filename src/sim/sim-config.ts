/** Seed data and knobs of the simulated cloud. Every field has a default (see defaultSimConfig). */

export interface SimProjectSeed {
  name: string;
  id?: string;
}

export interface SimUserSeed {
  name: string;
  password: string;
  id?: string;
  /** Project used when a password authentication carries no scope. */
  defaultProject?: string;
  /** Role names per project name. */
  roles: Record<string, string[]>;
}

export interface SimAppCredentialSeed {
  id: string;
  name: string;
  secret: string;
  /** Owner user name. */
  user: string;
  /** Project the credential is scoped to. */
  project: string;
  /** Subset of the owner's roles on the project; all of them when absent. */
  roles?: string[];
}

export interface SimFlavorSeed {
  id: string;
  name: string;
  vcpus: number;
  ramMb: number;
  diskGb: number;
  extraSpecs?: Record<string, string>;
}

export interface IdentityKnobs {
  /** Keystone's [token] expiration. */
  tokenLifetimeSeconds: number;
  region: string;
}

export interface NovaKnobs {
  /** Nova's `service_down_time`. */
  serviceDownTimeSeconds: number;
  /** Nova's `report_interval` (heartbeat period of nova-compute). */
  reportIntervalSeconds: number;
  /** Highest microversion announced and accepted (2.1 ... 2.96). */
  maxMicroversion: string;
  /** Time from an accepted evacuation to the server settling on its destination. */
  evacuationDurationMs: number;
  /** Probability in [0, 1] that an evacuation ends in ERROR with a fault. */
  evacuationFailureRate: number;
  evacuationFailureMessage: string;
  /** Time the conductor/scheduler takes before a NoValidHost turns the server to ERROR. */
  schedulingDelayMs: number;
  /** Duration of start, stop and reboot. */
  powerActionDurationMs: number;
  /** Time from POST /servers to ACTIVE. */
  bootDurationMs: number;
  /** Nova's sync_power_states period: a guest found shut down turns its server SHUTOFF after this. */
  powerSyncIntervalMs: number;
  /** Nova's resume_guests_state_on_host_boot. */
  resumeGuestsStateOnHostBoot: boolean;
  cpuAllocationRatio: number;
  ramAllocationRatio: number;
  diskAllocationRatio: number;
  reservedHostMemoryMb: number;
  /** Nova's [api] max_limit: the most items one list page returns. */
  maxLimit: number;
  defaultAvailabilityZone: string;
}

export interface SimConfig {
  seed: string | number;
  projects: SimProjectSeed[];
  users: SimUserSeed[];
  appCredentials: SimAppCredentialSeed[];
  flavors: SimFlavorSeed[];
  identity: IdentityKnobs;
  nova: NovaKnobs;
}

export const DEFAULT_NOVA_KNOBS: NovaKnobs = {
  serviceDownTimeSeconds: 60,
  reportIntervalSeconds: 10,
  maxMicroversion: "2.93",
  evacuationDurationMs: 3000,
  evacuationFailureRate: 0,
  evacuationFailureMessage: "Simulated failure while rebuilding the instance on the destination host",
  schedulingDelayMs: 200,
  powerActionDurationMs: 1000,
  bootDurationMs: 3000,
  powerSyncIntervalMs: 600_000,
  resumeGuestsStateOnHostBoot: false,
  cpuAllocationRatio: 4,
  ramAllocationRatio: 1,
  diskAllocationRatio: 1,
  reservedHostMemoryMb: 512,
  maxLimit: 1000,
  defaultAvailabilityZone: "nova",
};

export const DEFAULT_FLAVORS: SimFlavorSeed[] = [
  { id: "1", name: "m1.tiny", vcpus: 1, ramMb: 512, diskGb: 1 },
  { id: "2", name: "m1.small", vcpus: 1, ramMb: 2048, diskGb: 20 },
  { id: "3", name: "m1.medium", vcpus: 2, ramMb: 4096, diskGb: 40 },
  { id: "4", name: "m1.large", vcpus: 4, ramMb: 8192, diskGb: 80 },
  { id: "5", name: "m1.xlarge", vcpus: 8, ramMb: 16384, diskGb: 160 },
];

/** Partial configuration: any field left out takes its default. */
export type SimConfigOverrides = Partial<Omit<SimConfig, "identity" | "nova">> & { identity?: Partial<IdentityKnobs>; nova?: Partial<NovaKnobs> };

export function defaultSimConfig(overrides: SimConfigOverrides = {}): SimConfig {
  return {
    seed: overrides.seed ?? "vmkeeper",
    projects: overrides.projects ?? [{ name: "admin" }, { name: "service" }, { name: "demo" }],
    users: overrides.users ?? [
      { name: "admin", password: "admin-secret", defaultProject: "admin", roles: { admin: ["admin", "member", "reader"], demo: ["admin", "member", "reader"] } },
      { name: "vmkeeper", password: "vmkeeper-secret", defaultProject: "admin", roles: { admin: ["admin", "member", "reader"] } },
      { name: "demo", password: "demo-secret", defaultProject: "demo", roles: { demo: ["member", "reader"] } },
    ],
    appCredentials: overrides.appCredentials ?? [
      { id: "7f3c6a4e0b1d4c2a9e8f5a6b7c8d9e0f", name: "vmkeeper", secret: "vmkeeper-app-secret", user: "vmkeeper", project: "admin" },
    ],
    flavors: overrides.flavors ?? DEFAULT_FLAVORS,
    identity: { tokenLifetimeSeconds: 3600, region: "RegionOne", ...overrides.identity },
    nova: { ...DEFAULT_NOVA_KNOBS, ...overrides.nova },
  };
}
