import type { Incident, IncidentInstance } from "../api/v1alpha1/index.js";

/** A Nova server as the demo checks it. */
export interface ServerView {
  id: string;
  name: string;
  host: string;
  status: string;
}

/** A Nova server group with its members. */
export interface GroupView {
  name: string;
  policy: string;
  members: string[];
}

export interface OutcomeInput {
  incidents: Incident[];
  /** ComputeHost name of the killed host (`<cloud>.<service host>`). */
  victim: string;
  victimServiceHost: string;
  /** The servers on the killed host before it died. */
  before: ServerView[];
  /** Every server, after the recovery. */
  after: ServerView[];
  groups: GroupView[];
  /** mode of every InstanceHAPolicy by name (KeepRunning, NotifyOnly, Disabled). */
  policyModes: Record<string, string>;
}

export interface Outcome {
  failures: string[];
  protectedCount: number;
  recoveredCount: number;
  reportedCount: number;
}

function isProtected(inc: Incident, i: IncidentInstance, modes: Record<string, string>): boolean {
  const mode = inc.status?.policies?.find((p) => p.name === i.policy)?.mode ?? (i.policy ? modes[i.policy] : undefined);
  return mode === "KeepRunning";
}

/**
 * What the demo promises, checked against the API server and Nova: exactly one Incident, for
 * the killed host, Recovered; every server of that host accounted for in it; every protected
 * one running on another host (SHUTOFF stays SHUTOFF); no anti-affinity group sharing a host.
 */
export function checkOutcome(o: OutcomeInput): Outcome {
  const failures: string[] = [];
  const mine = o.incidents.filter((i) => i.spec.hostRef.name === o.victim);
  if (o.incidents.length !== 1) failures.push(`expected exactly one Incident, found ${o.incidents.length}: ${o.incidents.map((i) => i.metadata?.name ?? "").join(", ")}`);
  const inc = mine[0];
  if (!inc) return { failures: [...failures, `no Incident for ${o.victim}`], protectedCount: 0, recoveredCount: 0, reportedCount: 0 };
  if (inc.status?.phase !== "Recovered") failures.push(`Incident ${inc.metadata?.name ?? ""} is ${inc.status?.phase ?? "without a phase"}, not Recovered`);
  const instances = inc.status?.instances ?? [];
  const byId = new Map(o.after.map((s) => [s.id, s]));
  for (const s of o.before) if (!instances.some((i) => i.id === s.id)) failures.push(`${s.name} was on ${o.victimServiceHost} but is not in the Incident`);
  let protectedCount = 0;
  let recoveredCount = 0;
  for (const i of instances) {
    if (!isProtected(inc, i, o.policyModes)) continue;
    protectedCount++;
    const now = byId.get(i.id);
    const was = o.before.find((s) => s.id === i.id);
    const want = was?.status === "SHUTOFF" ? "SHUTOFF" : "ACTIVE";
    if (i.state !== "Recovered") failures.push(`${i.name ?? i.id}: Incident says ${i.state}${i.message ? ` (${i.message})` : ""}`);
    else if (!now) failures.push(`${i.name ?? i.id}: gone from Nova`);
    else if (now.host === o.victimServiceHost) failures.push(`${now.name}: still on ${o.victimServiceHost}`);
    else if (now.status !== want) failures.push(`${now.name}: ${now.status} on ${now.host}, expected ${want}`);
    else recoveredCount++;
  }
  if (protectedCount === 0) failures.push(`no protected instance was on ${o.victimServiceHost}: the demo proves nothing`);
  const hostOf = new Map(o.after.map((s) => [s.id, s.host]));
  for (const g of o.groups) {
    if (g.policy !== "anti-affinity") continue;
    const hosts = g.members.map((m) => hostOf.get(m)).filter((h): h is string => h !== undefined);
    if (new Set(hosts).size !== hosts.length) failures.push(`anti-affinity group ${g.name} has two members on one host: ${hosts.join(", ")}`);
  }
  const reportedCount = instances.filter((i) => i.state === "Notified").length;
  return { failures, protectedCount, recoveredCount, reportedCount };
}
