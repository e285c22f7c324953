import type { ComputeHost, HostFencing, HostFencingHostDevice, Incident } from "../../api/v1alpha1/index.js";
import type { ReconcileContext, ReconcileRequest, ReconcileResult, Reconciler } from "../../kube/controller.js";
import { isConditionTrue } from "../../kube/conditions.js";
import { jsonEqual } from "../../kube/deep-equal.js";
import type { EventRecorder } from "../../kube/event-recorder.js";
import type { ResourceClient } from "../../kube/resource-client.js";
import type { FenceDeviceFactory } from "../../fencing/fence-device-factory.js";
import { probeHostDevices } from "../../fencing/probe-host-devices.js";
import { resolveHostDevices, type SecretReader } from "../../fencing/resolve-host-devices.js";
import { hostFencingsFor, hostSelected } from "../../fencing/select-fenced-hosts.js";
import type { Clock } from "../../util/clock.js";
import type { FencingMetrics } from "./fencing-metrics.js";
import { CONDITION_TEST_DEVICE, planHostFencingStatus } from "./plan-host-fencing-status.js";
import { referencedSecrets } from "./secret-reader.js";
import { unfenceHosts } from "./unfence-hosts.js";

export interface HostFencingReconcilerDeps {
  hostFencings: ResourceClient<HostFencing>;
  listHostFencings: (namespace: string) => HostFencing[];
  listHosts: (namespace: string) => ComputeHost[];
  listIncidents: (namespace: string) => Incident[];
  secrets: (namespace: string) => SecretReader;
  /** resourceVersion of a Secret from the metadata cache, so a changed Secret re-probes at once. */
  secretVersion: (namespace: string, name: string) => string | undefined;
  devices: FenceDeviceFactory;
  /** Merge-patches an Incident's status (unfence progress). */
  patchIncidentStatus: (namespace: string, name: string, patch: unknown) => Promise<unknown>;
  events: EventRecorder;
  clock: Clock;
  metrics: FencingMetrics;
  /** Hosts probed at once per HostFencing (each probe is one status read per device). */
  probeConcurrency?: number;
}

/**
 * Keeps a HostFencing's status true: which hosts it selects, which of them another object
 * also selects (those are never fenced), and, every `healthCheckIntervalSeconds` or at once
 * when the spec, a referenced Secret or the host set changed, a status-only probe of every
 * device so a host that has become unfenceable raises DevicesReady=False (and the
 * unfenceable-hosts metric) before it fails. Fencing itself runs in the Incident workflow
 * through HostFencingProvider; with `unfence: Automatic` a host whose Incident is Recovered is
 * powered back on here (unfence-hosts.ts).
 */
export class HostFencingReconciler implements Reconciler {
  private readonly lastProbe = new Map<string, { signature: string; atMs: number }>();

  constructor(private readonly d: HostFencingReconcilerDeps) {}

  async reconcile(req: ReconcileRequest, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const hf = await this.d.hostFencings.get(req.namespace, req.name);
    const ns = req.namespace ?? "";
    if (!hf || hf.metadata?.deletionTimestamp) {
      this.lastProbe.delete(req.key);
      this.d.metrics.forget(ns, req.name);
      return;
    }
    const selected = this.d.listHosts(ns).filter((h) => h.spec.cloudRef.name === hf.spec.cloudRef.name && hostSelected(hf.spec.hostSelector, h));
    const all = this.d.listHostFencings(ns);
    const conflicts = new Map<string, string[]>();
    for (const h of selected) {
      const others = hostFencingsFor(h, all).map((x) => x.metadata?.name ?? "").filter((n) => n !== req.name);
      if (others.length > 0) conflicts.set(h.metadata?.name ?? "", others);
    }
    const intervalMs = (hf.spec.healthCheckIntervalSeconds ?? 300) * 1000;
    const signature = JSON.stringify([hf.metadata?.generation, selected.map((h) => h.metadata?.name), referencedSecrets(hf.spec).map((s) => this.d.secretVersion(ns, s))]);
    const nowMs = this.d.clock.monotonicMs();
    const last = this.lastProbe.get(req.key);
    const due = !last || last.signature !== signature || nowMs - last.atMs >= intervalMs;
    const probes = due ? await this.probeAll(hf, selected, ctx.signal) : new Map<string, HostFencingHostDevice[]>();
    if (due) this.lastProbe.set(req.key, { signature, atMs: nowMs });
    const incidents = this.d.listIncidents(ns);
    const unfenceRetryMs = await unfenceHosts(hf, selected.filter((h) => !conflicts.has(h.metadata?.name ?? "")), incidents, { ...this.d, secrets: this.d.secrets(ns) }, ctx.signal);
    const status = planHostFencingStatus({ hf, selected, conflicts, probes, incidents, now: this.d.clock.now() });
    this.d.metrics.unfenceable(ns, req.name, status.unfenceableHostCount ?? 0);
    if (isConditionTrue(status.conditions, CONDITION_TEST_DEVICE) && !isConditionTrue(hf.status?.conditions, CONDITION_TEST_DEVICE)) {
      await this.d.events.record(hf, "Warning", "NoopDeviceInUse", "Validate", "this HostFencing uses a Noop device: it powers nothing off; use it in tests only");
    }
    if (!jsonEqual(hf.status ?? {}, status)) await this.d.hostFencings.updateStatus({ ...hf, status });
    const since = this.d.clock.monotonicMs() - (this.lastProbe.get(req.key)?.atMs ?? nowMs);
    return { requeueAfterMs: Math.max(1000, Math.min(intervalMs - since, unfenceRetryMs ?? Infinity)) };
  }

  private async probeAll(hf: HostFencing, hosts: readonly ComputeHost[], signal: AbortSignal): Promise<Map<string, HostFencingHostDevice[]>> {
    const ns = hf.metadata?.namespace ?? "";
    const name = hf.metadata?.name ?? "";
    const out = new Map<string, HostFencingHostDevice[]>();
    const queue = [...hosts];
    const worker = async (): Promise<void> => {
      for (let h = queue.shift(); h; h = queue.shift()) {
        const hostName = h.metadata?.name ?? "";
        const plan = await resolveHostDevices(hf, { name: hostName, serviceHost: h.spec.serviceHost }, this.d.secrets(ns));
        const probes = await probeHostDevices(plan, this.d.devices, this.d.clock, signal);
        const at = this.d.clock.now().toISOString();
        out.set(hostName, probes.map((p) => ({ level: p.level, device: p.device, reachable: p.reachable, powerState: p.powerState, lastCheckTime: at, ...(p.error ? { lastError: p.error } : {}) })));
        for (const p of probes) this.d.metrics.deviceUp({ namespace: ns, hostfencing: name, host: hostName, level: p.level, device: p.device }, p.reachable);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.d.probeConcurrency ?? 8, Math.max(1, hosts.length)) }, worker));
    return out;
  }
}

/** HostFencings of a namespace that may select a host, to re-check when the host changes. */
export function hostFencingKeysForHost(all: readonly HostFencing[], namespace: string | undefined, cloud: string | undefined): string[] {
  return all.filter((hf) => hf.metadata?.namespace === namespace && hf.spec.cloudRef.name === cloud).map((hf) => `${namespace}/${hf.metadata?.name ?? ""}`);
}

/** HostFencings that refer to a Secret. */
export function hostFencingKeysForSecret(all: readonly HostFencing[], namespace: string | undefined, secret: string | undefined): string[] {
  return all.filter((hf) => hf.metadata?.namespace === namespace && secret !== undefined && referencedSecrets(hf.spec).includes(secret)).map((hf) => `${namespace}/${hf.metadata?.name ?? ""}`);
}
