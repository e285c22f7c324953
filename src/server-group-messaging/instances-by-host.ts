/**
 * Which instances each node agent said it serves, and the reverse: the host of an instance
 * (the agent that listed it last). Used for the agents' sgm guests and their heartbeat
 * channels alike.
 */
export class InstancesByHost {
  private readonly byHost = new Map<string, ReadonlySet<string>>();
  private readonly owner = new Map<string, string>();

  /** Replaces the host's list; false when it is the same set as before. */
  set(host: string, instances: readonly string[]): boolean {
    const before = this.byHost.get(host);
    const next = new Set(instances);
    if (before && before.size === next.size && [...next].every((i) => before.has(i))) return false;
    for (const id of before ?? []) if (!next.has(id) && this.owner.get(id) === host) this.owner.delete(id);
    for (const id of next) this.owner.set(id, host);
    this.byHost.set(host, next);
    return true;
  }

  /** The host that listed the instance last, while it still lists it. */
  hostOf(instanceId: string): string | undefined {
    return this.owner.get(instanceId);
  }

  /** The host's instances, sorted. */
  instances(host: string): string[] {
    return [...(this.byHost.get(host) ?? [])].sort();
  }

  /** Hosts that listed instances (an empty list included), sorted. */
  hosts(): string[] {
    return [...this.byHost.keys()].sort();
  }
}
