import type { InstanceHAPolicy } from "../../api/v1alpha1/index.js";
import type { HostSessionSettings } from "../../guest-heartbeat/host-session.js";
import type { GuestSettingsGroup } from "../../server-group-messaging/link-messages.js";
import type { ReconcileContext, ReconcileRequest, ReconcileResult, Reconciler } from "../../kube/controller.js";
import { guestSessionSettings, settingsGroups } from "./guest-session-settings.js";

/** What the reconciler reads and writes (GuestControlHub and ProtectionIndex provide it). */
export interface GuestSettingsDeps {
  channels(host: string): string[];
  generation(host: string): number;
  sendSettings(host: string, groups: GuestSettingsGroup[]): boolean;
  /** `namespace/policy` protecting the instance, as the policy controller last resolved it. */
  ownerOf(instanceId: string): string | undefined;
  getPolicy(namespace: string, name: string): InstanceHAPolicy | undefined;
  /** Monotonic milliseconds. */
  nowMs(): number;
  /**
   * Every cloud with a policy has been evaluated by the policy controller since this leader
   * started. Until then an instance missing from the index may be protected after all.
   */
  protectionReady(): boolean;
}

/** Sent again this often even when nothing changed (a line lost on a dying stream is not noticed otherwise). */
const RESEND_MS = 60_000;
/** How long a new leader waits for the protection index before sending what it knows (a cloud that cannot be read must not hold every host back). */
const READY_WAIT_MS = 30_000;
const READY_RECHECK_MS = 1000;

/**
 * Pushes each instance's heartbeat settings (its protecting policy's sensitivity, custom
 * interval and thresholds) to the node agent that has its channel, one key per host. Level
 * triggered: computes the full set for the host's channels and sends it when it differs
 * from what this host's current streams were last sent; unprotected instances and policies
 * without guest or application monitoring are left to the agent's own settings.
 */
export class GuestSettingsReconciler implements Reconciler {
  private readonly sent = new Map<string, { stamp: string; atMs: number }>();
  private readonly startedAtMs: number;

  constructor(private readonly d: GuestSettingsDeps) {
    this.startedAtMs = d.nowMs();
  }

  reconcile(req: ReconcileRequest, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const host = req.name;
    // A new leader's index starts empty: sending now would take every guest back to the
    // agent's own settings and, a moment later, forward again (two re-negotiations each).
    if (!this.d.protectionReady() && this.d.nowMs() - this.startedAtMs < READY_WAIT_MS) return Promise.resolve({ requeueAfterMs: READY_RECHECK_MS });
    const perInstance = new Map<string, HostSessionSettings>();
    for (const id of this.d.channels(host)) {
      const owner = this.d.ownerOf(id);
      if (owner === undefined) continue;
      const slash = owner.indexOf("/");
      const policy = this.d.getPolicy(owner.slice(0, slash), owner.slice(slash + 1));
      const settings = policy && !policy.metadata?.deletionTimestamp ? guestSessionSettings(policy) : undefined;
      if (settings) perInstance.set(id, settings);
    }
    const groups = settingsGroups(perInstance);
    const stamp = `${this.d.generation(host)}|${JSON.stringify(groups)}`;
    const last = this.sent.get(host);
    const now = this.d.nowMs();
    if (last && last.stamp === stamp && now - last.atMs < RESEND_MS) return Promise.resolve({ requeueAfterMs: RESEND_MS - (now - last.atMs) });
    if (!this.d.sendSettings(host, groups)) {
      // No stream from this host's agent: it is sent when one opens (the hub enqueues the host).
      this.sent.delete(host);
      return Promise.resolve();
    }
    this.sent.set(host, { stamp, atMs: now });
    if (last?.stamp !== stamp) ctx.log.info({ host, instances: perInstance.size, groups: groups.length }, "guest heartbeat settings sent to the node agent");
    return Promise.resolve({ requeueAfterMs: RESEND_MS });
  }
}
