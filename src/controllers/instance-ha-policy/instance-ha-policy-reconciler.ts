import type { ComputeHost, InstanceHAPolicy, InstanceHAPolicyStatus, OpenStackCloud } from "../../api/v1alpha1/index.js";
import type { ReconcileContext, ReconcileRequest, ReconcileResult, Reconciler } from "../../kube/controller.js";
import { findCondition, type Condition } from "../../kube/conditions.js";
import { jsonEqual } from "../../kube/deep-equal.js";
import type { EventRecorder, EventType } from "../../kube/event-recorder.js";
import type { Clock } from "../../util/clock.js";
import { classifyConnectionError } from "../openstack-cloud/classify-connection-error.js";
import { evaluatePolicy, type PolicyWorld } from "./evaluate-policy.js";
import type { Resources } from "./failover-capacity.js";
import { readInstanceInventory, type InstanceInventory, type InstanceInventoryNova } from "./instance-inventory.js";
import type { PolicyMetrics } from "./policy-metrics.js";
import type { ProtectionIndex } from "./protection-index.js";
import {
  CONDITION_DEGRADED,
  CONDITION_FAILOVER_CAPACITY,
  CONDITION_OVERLAPPING,
  CONDITION_PAUSED,
  CONDITION_READY,
  CONDITION_UNSAFE,
  planPolicyStatus,
  REASON_CLOUD_NOT_FOUND,
  REASON_CLOUD_NOT_READY,
  REASON_DISABLED,
  type CloudState,
} from "./plan-policy-status.js";
import { policyKey } from "./resolve-protection.js";

/** What the policy controller needs of a cloud's Nova (NovaClient provides it; `listProjects` is optional). */
export type PolicyNova = InstanceInventoryNova;

/** The status writes the reconciler makes (ResourceClient<InstanceHAPolicy> provides them). */
export interface PolicyStore {
  get(namespace: string | undefined, name: string): Promise<InstanceHAPolicy | undefined>;
  updateStatus(obj: InstanceHAPolicy): Promise<InstanceHAPolicy>;
}

export interface InstanceHAPolicyReconcilerDeps {
  policies: PolicyStore;
  /** The OpenStackCloud `namespace/name` (informer cache or API), for its Ready condition. */
  getCloud: (namespace: string, name: string) => Promise<OpenStackCloud | undefined>;
  /**
   * A Nova client for the cloud, sharing the OpenStackCloud controller's connection (token,
   * negotiated microversion); undefined while the cloud has no connection.
   */
  connectionFor: (namespace: string, cloudName: string) => Promise<PolicyNova | undefined>;
  /** InstanceHAPolicies of a namespace as the informer sees them. */
  listPolicies: (namespace: string) => InstanceHAPolicy[];
  /** ComputeHosts of a namespace as the informer sees them. */
  listHosts: (namespace: string) => ComputeHost[];
  events: EventRecorder;
  clock: Clock;
  /** Re-evaluation interval (default 60 s): instances come and go in Nova without any Kubernetes event. */
  reevaluateAfterMs?: number;
  /** Retry interval while the cloud is not ready (default 15 s). */
  cloudRetryMs?: number;
  /** How long one cloud's instance list is reused by the policies of that cloud (default 10 s). */
  inventoryTtlMs?: number;
  /** Nova allocation ratios, when known (default 1: free capacity never overstated). */
  allocationRatios?: Partial<Resources>;
  /** Who protects which instance, per cloud, as of the latest evaluation (guest control reads it). */
  protection?: ProtectionIndex;
  /** The protected-instances gauge, set from every status written (and cleared for a policy that is gone). */
  metrics?: PolicyMetrics;
}

const EVENT_CONDITIONS = [CONDITION_READY, CONDITION_OVERLAPPING, CONDITION_FAILOVER_CAPACITY, CONDITION_UNSAFE, CONDITION_DEGRADED, CONDITION_PAUSED];

/** First conditions not worth an Event of their own ("not paused", "no overlap"). */
const QUIET_FIRST = new Set([`${CONDITION_PAUSED}=False`, `${CONDITION_OVERLAPPING}=False`]);

interface CachedInventory {
  nova: PolicyNova;
  atMs: number;
  value: Promise<InstanceInventory>;
}

/**
 * Level-triggered: reads the policy, its cloud, every server of the cloud, the other
 * policies of the cloud and its ComputeHosts as they are now; resolves who protects what,
 * computes failover capacity, writes the status once if it changed (Events on condition
 * transitions) and looks again after `reevaluateAfterMs`. Every policy of a cloud resolves
 * the same overlap the same way, so each can be reconciled on its own.
 */
export class InstanceHAPolicyReconciler implements Reconciler {
  private readonly inventories = new Map<string, CachedInventory>();

  constructor(private readonly d: InstanceHAPolicyReconcilerDeps) {}

  async reconcile(req: ReconcileRequest, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const ns = req.namespace ?? "";
    const policy = await this.d.policies.get(req.namespace, req.name);
    if (!policy || policy.metadata?.deletionTimestamp) return this.d.metrics?.(ns, req.name, undefined);
    const cloudName = policy.spec.cloudRef.name;
    const retry = { requeueAfterMs: this.d.cloudRetryMs ?? 15_000 };
    const cloud = await this.d.getCloud(ns, cloudName);
    const notReady = cloudState(cloud, cloudName);
    if (notReady) {
      await this.writeStatus(policy, planPolicyStatus(policy, notReady, undefined, this.d.clock.now()), ctx);
      return retry;
    }
    let inventory: InstanceInventory;
    try {
      const nova = await this.d.connectionFor(ns, cloudName);
      if (!nova) {
        await this.writeStatus(policy, planPolicyStatus(policy, { ready: false, reason: REASON_CLOUD_NOT_READY, message: `OpenStackCloud ${cloudName} has no connection yet` }, undefined, this.d.clock.now()), ctx);
        return retry;
      }
      inventory = await this.inventory(`${ns}/${cloudName}`, nova, ctx.signal);
    } catch (err: unknown) {
      const failure = classifyConnectionError(err);
      if (!failure) throw err;
      ctx.log.info({ cloud: cloudName, failure: failure.kind, err: failure.message }, "reading the cloud's instances failed");
      await this.writeStatus(policy, planPolicyStatus(policy, { ready: false, reason: REASON_CLOUD_NOT_READY, message: `reading the instances of OpenStackCloud ${cloudName} failed: ${failure.message}` }, undefined, this.d.clock.now()), ctx);
      return retry;
    }
    const status = this.evaluate(policy, ns, inventory);
    await this.writeStatus(policy, status, ctx);
    ctx.log.debug({ protected: status.protectedCount, unprotected: status.unprotectedCount, tolerated: status.hostFailuresTolerated }, "policy evaluated");
    return { requeueAfterMs: this.d.reevaluateAfterMs ?? 60_000 };
  }

  private evaluate(policy: InstanceHAPolicy, ns: string, inventory: InstanceInventory): InstanceHAPolicyStatus {
    const cloudName = policy.spec.cloudRef.name;
    const key = policyKey(policy);
    // The freshly read policy replaces the informer's copy, which may lag behind.
    const others = this.d.listPolicies(ns).filter((p) => p.spec?.cloudRef?.name === cloudName && !p.metadata?.deletionTimestamp && policyKey(p) !== key);
    const world: PolicyWorld = {
      cloudName,
      policies: [...others, policy],
      instances: inventory.instances,
      hosts: this.d.listHosts(ns).filter((h) => h.spec?.cloudRef?.name === cloudName),
      projectNamesKnown: inventory.projectNamesKnown,
      ...(this.d.allocationRatios ? { allocationRatios: this.d.allocationRatios } : {}),
    };
    const result = evaluatePolicy(policy, world, this.d.clock.now());
    this.d.protection?.set(`${ns}/${cloudName}`, result.owners);
    return result.status;
  }

  /** One instance list per cloud and TTL, shared by the policies of the cloud. */
  private inventory(cloudKey: string, nova: PolicyNova, signal: AbortSignal): Promise<InstanceInventory> {
    const now = this.d.clock.monotonicMs();
    const hit = this.inventories.get(cloudKey);
    if (hit && hit.nova === nova && now - hit.atMs < (this.d.inventoryTtlMs ?? 10_000)) return hit.value;
    const value = readInstanceInventory(nova, { signal });
    const entry: CachedInventory = { nova, atMs: now, value };
    this.inventories.set(cloudKey, entry);
    value.catch(() => {
      if (this.inventories.get(cloudKey) === entry) this.inventories.delete(cloudKey);
    });
    return value;
  }

  private async writeStatus(policy: InstanceHAPolicy, status: InstanceHAPolicyStatus, ctx: ReconcileContext): Promise<void> {
    this.d.metrics?.(policy.metadata?.namespace ?? "", policy.metadata?.name ?? "", status);
    if (jsonEqual(status, policy.status)) return;
    const updated = await this.d.policies.updateStatus({ ...policy, status });
    for (const type of EVENT_CONDITIONS) {
      const before = findCondition(policy.status?.conditions, type);
      const after = findCondition(status.conditions, type);
      if (!after || (before?.status === after.status && before.reason === after.reason)) continue;
      if (!before && QUIET_FIRST.has(`${after.type}=${after.status}`)) continue;
      ctx.log.info({ condition: type, status: after.status, reason: after.reason }, "InstanceHAPolicy condition changed");
      await this.d.events.record(updated, eventType(after), after.reason, "Evaluate", `${type}=${after.status}: ${after.message}`);
    }
  }
}

function cloudState(cloud: OpenStackCloud | undefined, name: string): Exclude<CloudState, { ready: true }> | undefined {
  if (!cloud || cloud.metadata?.deletionTimestamp) return { ready: false, reason: REASON_CLOUD_NOT_FOUND, message: `OpenStackCloud ${name} does not exist in this namespace` };
  const ready = findCondition(cloud.status?.conditions, "Ready");
  if (ready?.status === "True") return undefined;
  const why = ready ? `${ready.reason}: ${ready.message}` : "not checked yet";
  return { ready: false, reason: REASON_CLOUD_NOT_READY, message: `OpenStackCloud ${name} is not ready (${why})` };
}

/** Warning for what a person should look at; Normal for the good news and for Disabled. */
function eventType(c: Condition): EventType {
  switch (c.type) {
    case CONDITION_READY:
      return c.status === "True" || c.reason === REASON_DISABLED ? "Normal" : "Warning";
    case CONDITION_FAILOVER_CAPACITY:
      return c.status === "True" ? "Normal" : "Warning";
    case CONDITION_UNSAFE:
    case CONDITION_DEGRADED:
      return c.status === "True" ? "Warning" : "Normal";
    default:
      return "Normal";
  }
}

/**
 * Keys of the policies to re-evaluate when something of cloud `namespace/cloudName`
 * changes (the cloud, a ComputeHost, or one of its policies: overlap is decided between
 * all policies of a cloud). For the lead's informer wiring.
 */
export function policyKeysForCloud(policies: readonly InstanceHAPolicy[], namespace: string | undefined, cloudName: string | undefined): string[] {
  return policies.filter((p) => p.metadata?.namespace === namespace && p.spec?.cloudRef?.name === cloudName).map(policyKey);
}
