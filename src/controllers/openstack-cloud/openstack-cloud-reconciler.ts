import type { ReconcileContext, ReconcileRequest, ReconcileResult, Reconciler } from "../../kube/controller.js";
import { findCondition } from "../../kube/conditions.js";
import { jsonEqual } from "../../kube/deep-equal.js";
import type { EventRecorder } from "../../kube/event-recorder.js";
import type { ResourceClient } from "../../kube/resource-client.js";
import type { KubeObject } from "../../kube/resource-type.js";
import type { Clock } from "../../util/clock.js";
import { checkCloudSecret, type CloudSecretSpec, type SecretData } from "./cloud-secret-check.js";
import { CONDITION_SECRET_VALID, planCloudStatus, type CloudStatus } from "./plan-cloud-status.js";

export interface OpenStackCloudObject extends KubeObject {
  spec?: CloudSecretSpec;
  status?: CloudStatus;
}

export type SecretObject = KubeObject & SecretData;

export interface OpenStackCloudReconcilerDeps {
  clouds: ResourceClient<OpenStackCloudObject>;
  secrets: ResourceClient<SecretObject>;
  events: EventRecorder;
  clock: Clock;
}

/**
 * Level-triggered: reads the cloud and its Secrets as they are now, plans the status,
 * writes it once if it changed, and records an Event when the Secret verdict flips.
 * Secrets are read directly (the Secret informer caches metadata only, to trigger us).
 */
export class OpenStackCloudReconciler implements Reconciler {
  constructor(private readonly d: OpenStackCloudReconcilerDeps) {}

  async reconcile(req: ReconcileRequest, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const cloud = await this.d.clouds.get(req.namespace, req.name);
    if (!cloud?.spec || cloud.metadata?.deletionTimestamp) return;
    const spec = cloud.spec;
    const secret = await this.d.secrets.get(req.namespace, spec.secretRef.name);
    const caSecret = spec.caBundleSecretRef ? await this.d.secrets.get(req.namespace, spec.caBundleSecretRef.name) : undefined;
    const check = checkCloudSecret(spec, secret, caSecret);
    const status = planCloudStatus(cloud.status, cloud.metadata?.generation, check, this.d.clock.now());
    if (jsonEqual(status, cloud.status)) return;
    const updated = await this.d.clouds.updateStatus({ ...cloud, status });
    const before = findCondition(cloud.status?.conditions, CONDITION_SECRET_VALID)?.status;
    const after = findCondition(status.conditions, CONDITION_SECRET_VALID);
    ctx.log.info({ secretValid: after?.status, reason: after?.reason }, "OpenStackCloud status updated");
    if (after && before !== after.status) {
      await this.d.events.record(updated, after.status === "True" ? "Normal" : "Warning", after.reason, "CheckSecret", after.message);
    }
  }
}

/** Keys of the clouds in `clouds` that reference the Secret `namespace/name`. */
export function cloudsReferencingSecret(clouds: OpenStackCloudObject[], namespace: string | undefined, name: string | undefined): string[] {
  return clouds
    .filter((c) => c.metadata?.namespace === namespace && (c.spec?.secretRef.name === name || c.spec?.caBundleSecretRef?.name === name))
    .map((c) => `${c.metadata?.namespace}/${c.metadata?.name}`);
}
