import type { Incident, IncidentGate, IncidentPhase, IncidentPolicyMode, IncidentTrigger } from "../api/v1alpha1/index.js";

/** The short names of vmkeeper's incident events; the CloudEvents type is `dev.vmkeeper.incident.<name>`. */
export const IncidentEventNames = [
  "detected",
  "suppressed",
  "fencing",
  "fenced",
  "fencing_failed",
  "evacuating",
  "instance_recovered",
  "instance_failed",
  "recovered",
  "failed",
] as const;
export type IncidentEventName = (typeof IncidentEventNames)[number];
export type IncidentEventType = `dev.vmkeeper.incident.${IncidentEventName}`;

export const INCIDENT_EVENT_TYPE_PREFIX = "dev.vmkeeper.incident.";
/** Events about one instance; their id also carries the instance id. */
export const INSTANCE_EVENT_NAMES: ReadonlySet<IncidentEventName> = new Set(["instance_recovered", "instance_failed"]);
/** Instances listed in one event at most (the payload stays well under 64 KiB). */
export const DEFAULT_MAX_INSTANCES = 100;
const MAX_MESSAGE = 1024;

/** A CloudEvents 1.0 event in structured JSON mode. */
export interface CloudEvent<T> {
  specversion: "1.0";
  /** Unique per source, stable for the same fact: retries and re-emissions carry the same id. */
  id: string;
  source: string;
  type: string;
  subject: string;
  /** RFC 3339. */
  time: string;
  datacontenttype: "application/json";
  data: T;
}

export interface AffectedInstance {
  id: string;
  name?: string;
  project?: string;
  policy?: string;
  state?: string;
  targetHost?: string;
  message?: string;
}

export interface IncidentEventData {
  incident: string;
  namespace: string;
  cloud: string;
  /** ComputeHost name. */
  host: string;
  /** nova-compute service host, as Nova knows it. */
  serviceHost?: string;
  epoch: number;
  phase: IncidentPhase;
  trigger?: IncidentTrigger;
  detectedAt?: string;
  /** Evidence summary at detection. */
  reason?: string;
  policies: { name: string; mode: IncidentPolicyMode }[];
  /** The gate that blocked recovery (suppressed events). */
  gate?: IncidentGate;
  summary: { total: number; recovered: number; failed: number; pending: number };
  /** Affected instances, at most `maxInstances` of them (first by id). */
  instances: AffectedInstance[];
  instancesTotal: number;
  instancesOmitted: number;
  /** The instance an instance_* event is about. */
  instance?: AffectedInstance;
  message: string;
}

export type IncidentCloudEvent = CloudEvent<IncidentEventData>;

/** Everything an incident event is built from; plain data, see incidentEventInput. */
export interface IncidentEventInput {
  namespace: string;
  incident: string;
  cloud: string;
  host: string;
  serviceHost?: string;
  epoch: number;
  /** The Incident's phase now; defaults to the phase the event type implies. */
  phase?: IncidentPhase;
  trigger?: IncidentTrigger;
  detectedAt?: string;
  reason?: string;
  policies: { name: string; mode?: IncidentPolicyMode }[];
  gate?: IncidentGate;
  instances: AffectedInstance[];
  summary?: { total?: number; recovered?: number; failed?: number; pending?: number };
  /** When the fact happened (not when it is sent): stays the same across retries. */
  time: Date;
}

export interface BuildOptions {
  /**
   * Scope the event to one policy: only its instances are listed and only it is named,
   * so one owner never learns about another owner's instances on the same host.
   */
  policy?: string;
  /** For instance_* events: the instance the event is about. */
  instanceId?: string;
  maxInstances?: number;
}

const PHASE_OF: Record<IncidentEventName, IncidentPhase> = {
  detected: "Detected",
  suppressed: "Suppressed",
  fencing: "Fencing",
  fenced: "Fenced",
  fencing_failed: "FencingFailed",
  evacuating: "Evacuating",
  instance_recovered: "Evacuating",
  instance_failed: "Evacuating",
  recovered: "Recovered",
  failed: "Failed",
};

export function incidentEventType(name: IncidentEventName): IncidentEventType {
  return `${INCIDENT_EVENT_TYPE_PREFIX}${name}`;
}

export function isIncidentEventName(s: string): s is IncidentEventName {
  return (IncidentEventNames as readonly string[]).includes(s);
}

/** `/ha.vmkeeper.dev/<namespace>/<cloud>`. */
export function incidentEventSource(namespace: string, cloud: string): string {
  return `/ha.vmkeeper.dev/${namespace}/${cloud}`;
}

/**
 * Deterministic id: `<incident>/<name>`, then `/<policy>` when scoped to a policy, then
 * `/<instance id>` for instance events. Incident names are unique in their namespace
 * (`<host>-<epoch>`) and the namespace is part of the source, so the id is unique per
 * source and the same fact always gets the same id (receivers deduplicate on it).
 */
export function incidentEventId(incident: string, name: IncidentEventName, policy?: string, instanceId?: string): string {
  return [incident, name, ...(policy !== undefined ? [policy] : []), ...(instanceId !== undefined ? [instanceId] : [])].join("/");
}

/** Builds one CloudEvent; pure. Throws only on a programming error (instance event without instance). */
export function buildIncidentEvent(name: IncidentEventName, input: IncidentEventInput, options: BuildOptions = {}): IncidentCloudEvent {
  const perInstance = INSTANCE_EVENT_NAMES.has(name);
  if (perInstance && options.instanceId === undefined) throw new Error(`event ${name} needs an instanceId`);
  const scoped = options.policy !== undefined ? input.instances.filter((i) => i.policy === options.policy) : input.instances;
  const sorted = [...scoped].sort((a, b) => a.id.localeCompare(b.id));
  const max = Math.max(0, options.maxInstances ?? DEFAULT_MAX_INSTANCES);
  const instance = perInstance ? (input.instances.find((i) => i.id === options.instanceId) ?? { id: options.instanceId ?? "" }) : undefined;
  const policies = input.policies
    .filter((p) => options.policy === undefined || p.name === options.policy)
    .map((p) => ({ name: p.name, mode: p.mode ?? "KeepRunning" }));
  const data: IncidentEventData = {
    incident: input.incident,
    namespace: input.namespace,
    cloud: input.cloud,
    host: input.host,
    ...(input.serviceHost !== undefined ? { serviceHost: input.serviceHost } : {}),
    epoch: input.epoch,
    phase: input.phase ?? PHASE_OF[name],
    ...(input.trigger !== undefined ? { trigger: input.trigger } : {}),
    ...(input.detectedAt !== undefined ? { detectedAt: input.detectedAt } : {}),
    ...(input.reason !== undefined ? { reason: clip(input.reason) } : {}),
    policies,
    ...(name === "suppressed" && input.gate ? { gate: input.gate } : {}),
    summary: summaryOf(input, options.policy !== undefined ? scoped : undefined),
    instances: sorted.slice(0, max),
    instancesTotal: sorted.length,
    instancesOmitted: Math.max(0, sorted.length - max),
    ...(instance ? { instance } : {}),
    message: "",
  };
  data.message = clip(describe(name, data));
  return {
    specversion: "1.0",
    id: incidentEventId(input.incident, name, options.policy, options.instanceId),
    source: incidentEventSource(input.namespace, input.cloud),
    type: incidentEventType(name),
    subject: input.incident,
    time: input.time.toISOString(),
    datacontenttype: "application/json",
    data,
  };
}

/** The JSON body sent for an event (structured mode); signed as is. */
export function serializeEvent(event: CloudEvent<unknown>): string {
  return JSON.stringify(event);
}

/**
 * Event input from an Incident object. Nova project ids are not kept on the Incident, so
 * the caller may pass them (`projectOf`); the rest comes from spec and status.
 */
export function incidentEventInput(incident: Incident, time: Date, projectOf?: (instanceId: string) => string | undefined): IncidentEventInput {
  const status = incident.status ?? {};
  const instances = (status.instances ?? []).map((i): AffectedInstance => {
    const project = projectOf?.(i.id);
    return {
      id: i.id,
      ...(i.name !== undefined ? { name: i.name } : {}),
      ...(project !== undefined ? { project } : {}),
      ...(i.policy !== undefined ? { policy: i.policy } : {}),
      state: i.state,
      ...(i.targetHost !== undefined ? { targetHost: i.targetHost } : {}),
      ...(i.message !== undefined ? { message: i.message } : {}),
    };
  });
  return {
    namespace: incident.metadata?.namespace ?? "default",
    incident: incident.metadata?.name ?? "",
    cloud: incident.spec.cloudRef.name,
    host: incident.spec.hostRef.name,
    ...(incident.spec.serviceHost !== undefined ? { serviceHost: incident.spec.serviceHost } : {}),
    epoch: incident.spec.epoch,
    ...(status.phase !== undefined ? { phase: status.phase } : {}),
    trigger: incident.spec.trigger,
    detectedAt: incident.spec.detectedAt,
    ...(incident.spec.reason !== undefined ? { reason: incident.spec.reason } : {}),
    policies: (status.policies ?? []).map((p) => ({ name: p.name, ...(p.mode !== undefined ? { mode: p.mode } : {}) })),
    ...(status.gate !== undefined ? { gate: status.gate } : {}),
    instances,
    ...(status.summary !== undefined ? { summary: status.summary } : {}),
    time,
  };
}

function summaryOf(input: IncidentEventInput, scoped: AffectedInstance[] | undefined): IncidentEventData["summary"] {
  if (scoped === undefined && input.summary) {
    const s = input.summary;
    return { total: s.total ?? input.instances.length, recovered: s.recovered ?? 0, failed: s.failed ?? 0, pending: s.pending ?? 0 };
  }
  const list = scoped ?? input.instances;
  const count = (states: string[]): number => list.filter((i) => i.state !== undefined && states.includes(i.state)).length;
  return {
    total: list.length,
    recovered: count(["Recovered"]),
    failed: count(["Failed", "Skipped"]),
    pending: count(["Pending", "Locked", "Evacuating", "Verifying"]),
  };
}

function describe(name: IncidentEventName, d: IncidentEventData): string {
  const host = `host ${d.host} of cloud ${d.cloud} (epoch ${d.epoch})`;
  const inst = d.instance ? `instance ${d.instance.name ?? d.instance.id} (${d.instance.id})` : "";
  switch (name) {
    case "detected":
      return `Failure of ${host} detected${d.reason ? `: ${d.reason}` : ""}. ${d.summary.total} protected instance(s) affected.${notifyOnlyNote(d)}`;
    case "suppressed":
      return `Recovery of ${host} suppressed by gate ${d.gate?.name ?? "unknown"}${d.gate?.message ? `: ${d.gate.message}` : ""}. Nothing is done until the gate opens.`;
    case "fencing":
      return `Fencing ${host} before its instances are recovered.`;
    case "fenced":
      return `${cap(host)} fenced: it cannot run its instances any more.`;
    case "fencing_failed":
      return `Fencing ${host} failed; its instances are not recovered until it is fenced.`;
    case "evacuating":
      return `Evacuating ${d.summary.total} instance(s) from ${host}.`;
    case "instance_recovered":
      return `${cap(inst)} recovered${d.instance?.targetHost ? ` on ${d.instance.targetHost}` : ""}.`;
    case "instance_failed":
      return `${cap(inst)} could not be recovered${d.instance?.message ? `: ${d.instance.message}` : ""}.`;
    case "recovered":
      return `All ${d.summary.recovered} instance(s) of ${host} recovered.`;
    case "failed":
      return `Recovery of ${host} finished with failures: ${d.summary.recovered} recovered, ${d.summary.failed} not recovered, ${d.summary.total} in all.`;
  }
}

function notifyOnlyNote(d: IncidentEventData): string {
  const notifyOnly = d.policies.filter((p) => p.mode === "NotifyOnly").map((p) => p.name);
  if (notifyOnly.length === 0) return "";
  return ` Policy ${notifyOnly.join(", ")} is NotifyOnly: vmkeeper takes no action for its instances.`;
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function clip(s: string): string {
  return s.length <= MAX_MESSAGE ? s : `${s.slice(0, MAX_MESSAGE - 1)}…`;
}
