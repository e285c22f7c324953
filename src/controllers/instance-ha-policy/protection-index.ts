/**
 * Which policy protects which instance, per cloud, as the InstanceHAPolicy controller last
 * resolved it (every evaluation resolves the whole cloud). In memory on the leader; read by
 * guest control, which must not read Nova per instance to push heartbeat settings.
 */
export class ProtectionIndex {
  private readonly byCloud = new Map<string, Record<string, string>>();
  private readonly listeners = new Set<() => void>();

  /** Replaces one cloud's owners (`instance id → namespace/policy`); listeners hear of a change only. */
  set(cloudKey: string, owners: Readonly<Record<string, string>>): void {
    const before = this.byCloud.get(cloudKey);
    if (before && sameOwners(before, owners)) return;
    this.byCloud.set(cloudKey, { ...owners });
    for (const l of this.listeners) l();
  }

  /** Forgets a cloud (its connection or its last policy went away). */
  delete(cloudKey: string): void {
    if (this.byCloud.delete(cloudKey)) for (const l of this.listeners) l();
  }

  /** Whether the cloud (`namespace/name`) has been resolved at least once. */
  has(cloudKey: string): boolean {
    return this.byCloud.has(cloudKey);
  }

  /** `namespace/policy` protecting the instance, in any cloud. */
  ownerOf(instanceId: string): string | undefined {
    for (const owners of this.byCloud.values()) {
      const key = owners[instanceId];
      if (key !== undefined) return key;
    }
    return undefined;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function sameOwners(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}
