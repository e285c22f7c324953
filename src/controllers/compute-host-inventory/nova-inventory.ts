/**
 * What the inventory controller needs from Nova, in vmkeeper's own terms. The reconciler
 * fills it from the Nova client; the planner works on it alone, so it is tested without a
 * cloud.
 */
export interface InventoryService {
  id: string;
  host: string;
  zone?: string;
  state: "up" | "down";
  status: "enabled" | "disabled";
  forcedDown: boolean;
  disabledReason?: string;
  updatedAt?: string;
}

export interface InventoryHypervisor {
  id: string;
  serviceHost: string;
  hypervisorHostname: string;
  /** Servers Nova places on this hypervisor. */
  serverCount: number;
  vcpus?: { used: number; total: number };
  memoryMiB?: { used: number; total: number };
  diskGiB?: { used: number; total: number };
}

export interface InventoryAggregate {
  name: string;
  hosts: string[];
  availabilityZone?: string;
}

export interface NovaInventory {
  /** nova-compute services only. */
  services: InventoryService[];
  hypervisors: InventoryHypervisor[];
  aggregates: InventoryAggregate[];
}
