import type { ComputeHost, OpenStackCloud } from "../../api/v1alpha1/index.js";
import type { ReconcileContext, ReconcileRequest, ReconcileResult, Reconciler } from "../../kube/controller.js";
import { findCondition } from "../../kube/conditions.js";
import { jsonEqual } from "../../kube/deep-equal.js";
import type { EventRecorder } from "../../kube/event-recorder.js";
import type { ResourceClient } from "../../kube/resource-client.js";
import type { KubeObject } from "../../kube/resource-type.js";
import { formatMicroversion, mv } from "../../openstack/microversion.js";
import type { Clock } from "../../util/clock.js";
import { applyComputeHostPlan } from "../compute-host-inventory/apply-compute-host-plan.js";
import { planComputeHosts } from "../compute-host-inventory/plan-compute-hosts.js";
import { readNovaInventory } from "../compute-host-inventory/read-nova-inventory.js";
import { classifyConnectionError } from "./classify-connection-error.js";
import type { CloudConnector } from "./cloud-connection-cache.js";
import { cloudConfigFromSecret } from "./cloud-config-from-secret.js";
import { checkCloudSecret, type SecretData } from "./cloud-secret-check.js";
import { CONDITION_READY, planCloudStatus, type CloudStatus, type ConnectionOutcome } from "./plan-cloud-status.js";

export type SecretObject = KubeObject & SecretData;
export type OpenStackCloudObject = OpenStackCloud;

export interface OpenStackCloudReconcilerDeps {
  clouds: ResourceClient<OpenStackCloud>;
  secrets: ResourceClient<SecretObject>;
  hosts: ResourceClient<ComputeHost>;
  /** ComputeHosts as the informer sees them. */
  listHosts: (namespace: string) => ComputeHost[];
  connector: CloudConnector;
  events: EventRecorder;
  clock: Clock;
}

const RETRY_UNREACHABLE_MS = 15_000;
const RETRY_NOT_READY_MS = 60_000;

/**
 * Level-triggered: reads the cloud and its Secrets as they are now, connects (reusing the
 * session while nothing changed), reads Nova's inventory, converges the ComputeHosts,
 * writes the cloud's status once if it changed, and re-checks after
 * `spec.recheckIntervalSeconds`. Secrets are read directly: the Secret informer caches
 * metadata only, to trigger us.
 */
export class OpenStackCloudReconciler implements Reconciler {
  constructor(private readonly d: OpenStackCloudReconcilerDeps) {}

  async reconcile(req: ReconcileRequest, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const cloud = await this.d.clouds.get(req.namespace, req.name);
    if (!cloud || cloud.metadata?.deletionTimestamp) {
      this.d.connector.forget(req.key);
      return;
    }
    const spec = cloud.spec;
    const secret = await this.d.secrets.get(req.namespace, spec.secretRef.name);
    const caSecret = spec.caBundleSecretRef ? await this.d.secrets.get(req.namespace, spec.caBundleSecretRef.name) : undefined;
    const check = checkCloudSecret({ ...spec, secretRef: { name: spec.secretRef.name, key: spec.secretRef.key ?? "clouds.yaml" } }, secret, caSecret);
    let outcome: ConnectionOutcome | undefined;
    if (check.valid && secret) outcome = await this.connect(req, cloud, secret, caSecret, ctx);
    const status = planCloudStatus(cloud.status as CloudStatus | undefined, cloud.metadata?.generation, check, outcome, this.d.clock.now());
    await this.writeStatus(cloud, status, ctx);
    const recheckMs = (spec.recheckIntervalSeconds ?? 300) * 1000;
    if (!outcome || outcome.kind === "InvalidConfig") return;
    if (outcome.kind === "Connected" || outcome.kind === "AuthFailed") return { requeueAfterMs: recheckMs };
    return { requeueAfterMs: Math.min(recheckMs, outcome.kind === "EndpointUnreachable" ? RETRY_UNREACHABLE_MS : RETRY_NOT_READY_MS) };
  }

  private async connect(req: ReconcileRequest, cloud: OpenStackCloud, secret: SecretObject, caSecret: SecretObject | undefined, ctx: ReconcileContext): Promise<ConnectionOutcome> {
    const spec = cloud.spec;
    try {
      const config = cloudConfigFromSecret(spec, secret, caSecret);
      const fingerprint = [cloud.metadata?.generation, secret.metadata?.resourceVersion, caSecret?.metadata?.resourceVersion].join("/");
      const conn = this.d.connector.get(req.key, fingerprint, config, {
        timeoutMs: (spec.requestTimeoutSeconds ?? 30) * 1000,
        ...(spec.maxNovaMicroversion ? { maxMicroversion: mv(spec.maxNovaMicroversion) } : {}),
      });
      const negotiated = await conn.nova.negotiate({ signal: ctx.signal });
      const inventory = await readNovaInventory(conn.nova, { signal: ctx.signal });
      const ns = req.namespace ?? "";
      const existing = this.d.listHosts(ns).filter((h) => h.spec.cloudRef.name === req.name);
      const plan = planComputeHosts({ name: req.name, namespace: ns }, inventory, existing);
      await applyComputeHostPlan(plan, cloud, existing, this.d.hosts, this.d.events);
      ctx.log.info({ hosts: inventory.services.length, created: plan.create.length, updated: plan.status.length, deleted: plan.delete.length, microversion: formatMicroversion(negotiated.version) }, "inventory synchronised");
      return {
        kind: "Connected",
        computeEndpoint: negotiated.endpoint,
        microversion: { min: formatMicroversion(negotiated.serverRange.min), max: formatMicroversion(negotiated.serverRange.max), negotiated: formatMicroversion(negotiated.version) },
        hostCount: inventory.services.length,
      };
    } catch (err: unknown) {
      const failure = classifyConnectionError(err);
      if (!failure) throw err;
      ctx.log.info({ failure: failure.kind, reason: "reason" in failure ? failure.reason : failure.kind, err: failure.message }, "cloud connection check failed");
      return failure;
    }
  }

  private async writeStatus(cloud: OpenStackCloud, status: CloudStatus, ctx: ReconcileContext): Promise<void> {
    if (jsonEqual(status, cloud.status)) return;
    const updated = await this.d.clouds.updateStatus({ ...cloud, status });
    for (const type of ["SecretValid", CONDITION_READY]) {
      const before = findCondition(cloud.status?.conditions, type);
      const after = findCondition(status.conditions, type);
      if (after && (before?.status !== after.status || before.reason !== after.reason)) {
        ctx.log.info({ condition: type, status: after.status, reason: after.reason }, "OpenStackCloud condition changed");
        await this.d.events.record(updated, after.status === "True" ? "Normal" : "Warning", after.reason, type === CONDITION_READY ? "Connect" : "CheckSecret", after.message);
      }
    }
  }
}

/** Keys of the clouds in `clouds` that reference the Secret `namespace/name`. */
export function cloudsReferencingSecret(clouds: OpenStackCloud[], namespace: string | undefined, name: string | undefined): string[] {
  return clouds
    .filter((c) => c.metadata?.namespace === namespace && (c.spec?.secretRef.name === name || c.spec?.caBundleSecretRef?.name === name))
    .map((c) => `${c.metadata?.namespace}/${c.metadata?.name}`);
}
