import type { ComputeHost, Incident, InstanceHAPolicy } from "../../api/v1alpha1/index.js";
import type { NovaClient } from "../../openstack/nova-client.js";
import type { ProtectedInstance, WorkflowSettings } from "../../recovery/workflow/workflow-model.js";
import type { Clock } from "../../util/clock.js";
import { toInstanceInventory } from "../instance-ha-policy/instance-inventory.js";
import { resolveProtection } from "../instance-ha-policy/resolve-protection.js";
import { hostReenableMode } from "./host-reenable-mode.js";
import type { ProtectionSource } from "./protection-source.js";

export interface PolicyProtectionDeps {
  listPolicies: (namespace: string) => InstanceHAPolicy[];
  listHosts: (namespace: string) => ComputeHost[];
  listIncidents: (namespace: string) => Incident[];
  novaFor: (namespace: string, cloud: string) => NovaClient | undefined;
  clock: Clock;
}

const DEFAULTS = { maxConcurrentEvacuations: 16, maxConcurrentEvacuationsPerTargetHost: 10, evacuationTimeoutSeconds: 600, lockInstances: true, readinessTimeoutSeconds: 120, maxRecoveries: 3, windowSeconds: 3600 };

/**
 * Which servers of a failed host are protected, resolved with the same rules as the
 * InstanceHAPolicy controller (selectors, exclusions, overlap, tiers), and the recovery
 * settings that apply: the most cautious value where several policies are involved (lowest
 * concurrency, overall and per target host; power fencing skipped, and the host re-enabled
 * automatically, only if every KeepRunning policy involved allows it). Recovery methods and
 * reserved hosts stay per instance: each follows its own policy's.
 */
export class PolicyProtectionSource implements ProtectionSource {
  constructor(private readonly d: PolicyProtectionDeps) {}

  async resolve(req: Parameters<ProtectionSource["resolve"]>[0]): ReturnType<ProtectionSource["resolve"]> {
    const policies = this.d.listPolicies(req.namespace).filter((p) => p.spec.cloudRef.name === req.cloud);
    const nova = this.d.novaFor(req.namespace, req.cloud);
    const [groups, flavors] = nova ? await Promise.all([nova.listServerGroups({ allProjects: true }), nova.listFlavors({ includePrivate: true })]) : [[], []];
    const { instances } = toInstanceInventory(req.servers, groups, flavors, undefined);
    const hosts = this.d.listHosts(req.namespace).filter((h) => h.spec.cloudRef.name === req.cloud);
    const resolution = resolveProtection({ policies, instances, hosts });
    const byKey = new Map(policies.map((p) => [`${p.metadata?.namespace}/${p.metadata?.name}`, p]));
    const recoveries = this.recentRecoveries(req.namespace, req.cloud);
    const out: ProtectedInstance[] = [];
    const involved = new Set<InstanceHAPolicy>();
    for (const r of resolution.policies) {
      const policy = byKey.get(r.key);
      if (!policy || (r.mode !== "KeepRunning" && r.mode !== "NotifyOnly")) continue;
      const budget = policy.spec.restartBudget ?? {};
      const entries = [
        ...r.protected.map((p) => ({ instance: p.instance, tier: p.tier, localDiskRefused: false })),
        ...r.unprotected.filter((u) => u.reason === "LocalDiskRefused").map((u) => ({ instance: u.instance, tier: undefined, localDiskRefused: true })),
      ];
      for (const e of entries) {
        if (e.instance.host !== req.serviceHost) continue;
        involved.add(policy);
        const tierSpec = policy.spec.priorityTiers?.find((t) => t.name === e.tier?.name);
        out.push({
          id: e.instance.id,
          name: e.instance.name,
          policy: policy.metadata?.name ?? r.key,
          mode: r.mode,
          tier: e.tier?.name ?? "default",
          tierPriority: e.tier?.priority ?? 0,
          tierReadinessTimeoutMs: (tierSpec?.readinessTimeoutSeconds ?? DEFAULTS.readinessTimeoutSeconds) * 1000,
          localDiskRefused: e.localDiskRefused,
          recentRecoveries: recoveries(e.instance.id, (budget.windowSeconds ?? DEFAULTS.windowSeconds) * 1000),
          maxRecoveries: budget.maxRecoveries ?? DEFAULTS.maxRecoveries,
          methods: policy.spec.recovery?.methods?.length ? [...policy.spec.recovery.methods] : ["Evacuate"],
          reservedHosts: [...(policy.spec.recovery?.reservedHosts ?? [])],
        });
      }
    }
    const keepRunning = [...involved].filter((p) => (p.spec.mode ?? "KeepRunning") === "KeepRunning");
    const settings: WorkflowSettings = {
      maxConcurrentEvacuations: Math.min(...keepRunning.map((p) => p.spec.recovery?.maxConcurrentEvacuations ?? DEFAULTS.maxConcurrentEvacuations), DEFAULTS.maxConcurrentEvacuations * 8),
      evacuationTimeoutMs: Math.max(...keepRunning.map((p) => (p.spec.recovery?.evacuationTimeoutSeconds ?? DEFAULTS.evacuationTimeoutSeconds) * 1000), 60_000),
      lockInstances: keepRunning.some((p) => p.spec.recovery?.lockInstances ?? DEFAULTS.lockInstances),
      unsafeSkipPowerFencing: keepRunning.length > 0 && keepRunning.every((p) => p.spec.recovery?.unsafeSkipPowerFencing === true),
      conflictRetryMs: 5_000,
      maxEvacuationAttempts: 5,
      maxConcurrentEvacuationsPerTargetHost: Math.min(...keepRunning.map((p) => p.spec.recovery?.maxConcurrentEvacuationsPerTargetHost ?? DEFAULTS.maxConcurrentEvacuationsPerTargetHost), 32),
      hostReenable: hostReenableMode(keepRunning),
    };
    return {
      instances: out,
      settings,
      policies: policies.map((p) => ({ name: p.metadata?.name ?? "", mode: p.spec.mode ?? "KeepRunning" })),
    };
  }

  /** Recoveries of an instance recorded by this cloud's incidents within a window. */
  private recentRecoveries(namespace: string, cloud: string): (id: string, windowMs: number) => number {
    const now = this.d.clock.now().getTime();
    const incidents = this.d.listIncidents(namespace).filter((i) => i.spec.cloudRef.name === cloud);
    return (id, windowMs) =>
      incidents.reduce((n, inc) => n + (inc.status?.instances ?? []).filter((x) => x.id === id && x.state === "Recovered" && x.finishedAt && now - Date.parse(x.finishedAt) <= windowMs).length, 0);
  }
}
