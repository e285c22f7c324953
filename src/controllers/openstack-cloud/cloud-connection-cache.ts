import type { CloudConfig } from "../../openstack/clouds-config.js";
import type { HttpTransport } from "../../openstack/http-transport.js";
import { KeystoneSession } from "../../openstack/keystone-session.js";
import type { Microversion } from "../../openstack/microversion.js";
import { NovaClient } from "../../openstack/nova-client.js";
import type { Clock } from "../../util/clock.js";
import type { Logger } from "../../util/logger.js";

export interface CloudConnection {
  session: KeystoneSession;
  nova: NovaClient;
}

export interface CloudConnector {
  /**
   * The connection for one OpenStackCloud. It is reused (token cache, negotiated
   * microversion, keep-alive sockets) while `fingerprint` — the Secret and spec versions —
   * stays the same, and rebuilt when it changes.
   */
  get(key: string, fingerprint: string, config: CloudConfig, opts: { maxMicroversion?: Microversion; timeoutMs: number }): CloudConnection;
  forget(key: string): void;
  /** The connection last built for `namespace/name`, if the cloud has been connected. */
  current(key: string): CloudConnection | undefined;
}

export class CloudConnectionCache implements CloudConnector {
  private readonly cache = new Map<string, { fingerprint: string; conn: CloudConnection }>();

  constructor(
    private readonly transport: HttpTransport,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  get(key: string, fingerprint: string, config: CloudConfig, opts: { maxMicroversion?: Microversion; timeoutMs: number }): CloudConnection {
    const hit = this.cache.get(key);
    if (hit && hit.fingerprint === fingerprint) return hit.conn;
    const logger = this.log.child({ cloud: key });
    const session = new KeystoneSession({ cloud: config, transport: this.transport, clock: this.clock, logger, userAgent: "vmkeeper" });
    const nova = new NovaClient({ session, clock: this.clock, logger, timeoutMs: opts.timeoutMs, ...(opts.maxMicroversion ? { maxMicroversion: opts.maxMicroversion } : {}) });
    const conn = { session, nova };
    this.cache.set(key, { fingerprint, conn });
    return conn;
  }

  forget(key: string): void {
    this.cache.delete(key);
  }

  current(key: string): CloudConnection | undefined {
    return this.cache.get(key)?.conn;
  }
}
