import { appendFileSync } from "node:fs";

/**
 * One line of a fault run's history (FAULT-MATRIX.md): what a component saw or did, when
 * (ms since the epoch), from whose point of view. Written as JSON lines so a failed run can
 * be read afterwards.
 */
export type HistoryRecord =
  | { at: number; source: "bmc"; kind: "powerOff"; host: string }
  | { at: number; source: "nova" | "incident"; kind: "forcedDown"; host: string }
  | { at: number; source: "nova"; kind: "evacuationAccepted"; host: string; instance: string; migration: string }
  | { at: number; source: "incident"; kind: "firstEvacuation" | "recovered"; host: string; incident: string };

/** A fault run's history, kept in memory and appended to a JSON-lines file. */
export class FaultHistory {
  readonly records: HistoryRecord[] = [];

  constructor(private readonly file?: string) {}

  add(record: HistoryRecord): void {
    this.records.push(record);
    if (this.file) appendFileSync(this.file, `${JSON.stringify(record)}\n`);
  }
}

/**
 * Invariant I2: every accepted evacuation of a VM from host H comes after H's power was cut
 * (read back Off by the BMC) and after H was forced down. Returns the violations, worded for
 * an assertion message; none means the history keeps I2. Nova records a migration's
 * creation to the second, so an evacuation "at" second S is taken as [S, S + 1 s): it
 * violates I2 only when that whole second lies before the power-off.
 */
export function violationsOfI2(history: readonly HistoryRecord[], resolutionMs = 1000): string[] {
  const out: string[] = [];
  for (const ev of history) {
    if (ev.kind !== "evacuationAccepted") continue;
    const latestPossible = ev.at + resolutionMs - 1;
    const powerOff = history.find((r) => r.kind === "powerOff" && r.host === ev.host && r.at <= latestPossible);
    if (!powerOff) out.push(`evacuation ${ev.migration} of ${ev.instance} from ${ev.host} at ${new Date(ev.at).toISOString()} with no power-off of ${ev.host} before it`);
    const forced = history.find((r) => r.kind === "forcedDown" && r.host === ev.host && r.at <= latestPossible);
    if (!forced) out.push(`evacuation ${ev.migration} of ${ev.instance} from ${ev.host} at ${new Date(ev.at).toISOString()} before ${ev.host} was forced down`);
  }
  return out;
}
