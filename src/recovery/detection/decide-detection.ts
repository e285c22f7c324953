import type { DetectionDecision, DetectionInput, Evidence, HostAssessment, HostObservation } from "../model.js";
import { assessHost } from "./assess-host.js";
import { detectionTiming } from "./detection-timing.js";
import { evaluateGates } from "./evaluate-gates.js";
import { formatDetectionLog } from "./format-detection-log.js";
import type { GateContext } from "./gates/gate-context.js";
import { maintenanceGate } from "./gates/maintenance.js";
import { normalizeDetectionSettings } from "./normalize-detection-settings.js";
import { SUPPRESSED_PHASE } from "./monitored-hosts.js";

/**
 * One detection pass for one cloud: assess every host, run the safety-gate chain, decide.
 * Pure: the host monitor supplies the observations (monotonic times only, F17) and applies the
 * decision (creates Incidents named `<host>-<epoch>`, updates Suppressed ones).
 *
 * - A Failed host with no open incident is a new failure of epoch lastEpoch + 1: `open` if no
 *   gate blocks it, else `suppressed` with the first blocking gate.
 * - A Failed host whose incident is Suppressed is re-judged with the same epoch: `release` when
 *   no gate blocks it any more, else `held` with the gate blocking it now.
 * - A Suppressed incident whose host heartbeats again (Healthy or Degraded) is `withdraw`n;
 *   Suspect or Unknown are not proof of life and keep it.
 * - A Failed host with an incident in any other phase is in progress: nothing new (F16); a
 *   second replica or a replayed report deciding on the same state yields the same epoch,
 *   hence the same Incident name, which the API server refuses to create twice.
 * - A Failed host in maintenance without an incident is `skipped` (no Incident).
 */
export function decideDetection(input: DetectionInput): DetectionDecision {
  const { settings, problems } = normalizeForPass(input);
  const hosts = [...input.hosts].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const assessments = hosts.map((h) => assessHost(h, settings, input.nowMs));
  const byName = new Map(assessments.map((a) => [a.name, a]));
  const states = new Map(assessments.map((a) => [a.name, a.state]));
  const failed = hosts.filter((h) => states.get(h.name) === "Failed");
  const candidates = failed.filter((h) => !h.maintenance && (h.openIncident === undefined || h.openIncident.phase === SUPPRESSED_PHASE));
  const ctx: GateContext = { nowMs: input.nowMs, settings, timing: detectionTiming(settings), observer: input.observer, hosts, states, recentFailures: input.recentFailures, candidates };
  const chain = evaluateGates(ctx);
  const evidenceOf = (h: HostObservation): Evidence[] => byName.get(h.name)?.evidence ?? [];

  const decision: Omit<DetectionDecision, "log" | "assessments"> = { open: [], suppressed: [], release: [], held: [], withdraw: [], skipped: [], gates: chain.gates };
  for (const h of candidates) {
    const gate = chain.blocking.get(h.name);
    const epoch = h.openIncident?.epoch ?? h.lastEpoch + 1;
    if (h.openIncident === undefined) {
      if (gate === undefined) decision.open.push({ host: h.name, epoch, evidence: evidenceOf(h) });
      else decision.suppressed.push({ host: h.name, epoch, gate, evidence: evidenceOf(h) });
    } else if (gate === undefined) decision.release.push({ host: h.name, epoch, evidence: evidenceOf(h) });
    else decision.held.push({ host: h.name, epoch, gate });
  }
  for (const h of failed.filter((f) => f.maintenance)) {
    if (h.openIncident === undefined) decision.skipped.push({ host: h.name, gate: maintenanceGate(h) });
    else if (h.openIncident.phase === SUPPRESSED_PHASE) decision.held.push({ host: h.name, epoch: h.openIncident.epoch, gate: maintenanceGate(h) });
  }
  decision.held.sort((a, b) => (a.host < b.host ? -1 : 1));
  decision.withdraw = withdrawals(hosts, byName);
  const inFlight = failed.flatMap((h) => (h.openIncident !== undefined && h.openIncident.phase !== SUPPRESSED_PHASE ? [{ host: h.name, ...h.openIncident }] : []));
  const log = formatDetectionLog({ nowMs: input.nowMs, assessments, decision, inFlight, settingsProblems: problems });
  return { assessments, ...decision, log };
}

function normalizeForPass(input: DetectionInput): ReturnType<typeof normalizeDetectionSettings> {
  const normalized = normalizeDetectionSettings(input.settings);
  return { settings: normalized.settings, problems: [...(input.settings.notes ?? []), ...normalized.problems] };
}

function withdrawals(hosts: readonly HostObservation[], byName: ReadonlyMap<string, HostAssessment>): DetectionDecision["withdraw"] {
  return hosts.flatMap((h) => {
    const state = byName.get(h.name)?.state;
    if (h.openIncident?.phase !== SUPPRESSED_PHASE || (state !== "Healthy" && state !== "Degraded")) return [];
    return [{ host: h.name, epoch: h.openIncident.epoch, state }];
  });
}
