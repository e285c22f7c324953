import { KubeApiError } from "../../src/kube/api-error.js";
import type { LeaseObject, LeaseStore } from "../../src/kube/leader-election.js";

/**
 * An in-memory Lease store with the API server's optimistic concurrency (409 on a stale
 * resourceVersion, 409 AlreadyExists on a second create), for virtual-clock election tests.
 * It records every successful write with the writer and the virtual time.
 */
export class MemoryLeaseStore implements LeaseStore {
  private lease: LeaseObject | undefined;
  private rv = 0;
  readonly writes: { holder: string; atMs: number }[] = [];
  /** When set, every call fails as if the API server were unreachable. */
  down = false;

  constructor(private readonly now: () => number) {}

  get(): Promise<LeaseObject | undefined> {
    if (this.down) return Promise.reject(new Error("connection refused"));
    return Promise.resolve(this.lease ? structuredClone(this.lease) : undefined);
  }

  create(lease: LeaseObject): Promise<LeaseObject> {
    if (this.down) return Promise.reject(new Error("connection refused"));
    if (this.lease) return Promise.reject(new KubeApiError(409, "AlreadyExists", "exists", "POST", "lease"));
    return Promise.resolve(this.store(lease));
  }

  update(lease: LeaseObject): Promise<LeaseObject> {
    if (this.down) return Promise.reject(new Error("connection refused"));
    if (!this.lease || lease.metadata?.resourceVersion !== this.lease.metadata?.resourceVersion) {
      return Promise.reject(new KubeApiError(409, "Conflict", "stale", "PUT", "lease"));
    }
    return Promise.resolve(this.store(lease));
  }

  holder(): string | undefined {
    return this.lease?.spec?.holderIdentity;
  }

  private store(lease: LeaseObject): LeaseObject {
    this.rv++;
    this.lease = structuredClone({ ...lease, metadata: { ...lease.metadata, resourceVersion: String(this.rv) } });
    this.writes.push({ holder: lease.spec?.holderIdentity ?? "", atMs: this.now() });
    return structuredClone(this.lease);
  }
}
