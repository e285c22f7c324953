import type { DomainEventKind } from "../reports/agent-report.js";
import { splitLifecyclePayload, type VirshEvent } from "./parse-virsh-event.js";

/** What one libvirt event means for the operator. */
export interface DomainEventClass {
  /** The report to send, when the event is one the operator acts on. */
  kind?: DomainEventKind;
  /** libvirt's own words, for humans: "Stopped Destroyed", "Watchdog none". */
  detail: string;
  /** The set of domains or their XML may have changed: refresh the inventory. */
  refreshInventory: boolean;
}

/**
 * Lifecycle event word → detail → kind. Details not listed are not reported: a stop for a
 * migration, save or snapshot is planned; a plain pause is an operator's choice.
 */
const LIFECYCLE: Record<string, Record<string, DomainEventKind> | DomainEventKind> = {
  Stopped: { Crashed: "Crashed", Destroyed: "StoppedUnrequested", Failed: "StoppedUnrequested", Shutdown: "GuestShutdown" },
  Crashed: "Crashed",
  Suspended: { "I/O Error": "PausedIOError" },
  Started: "Started",
  Resumed: "Started",
};

/** Lifecycle events after which the inventory is read again (new domain, new XML, new socket). */
const REFRESHING = new Set(["Defined", "Undefined", "Started", "Stopped"]);

/**
 * Classifies one parsed virsh event. libvirt cannot tell a stop that Nova asked for from one
 * behind Nova's back (both are Stopped/Destroyed): the agent reports StoppedUnrequested and
 * the operator compares with Nova's instance actions.
 */
export function classifyDomainEvent(event: VirshEvent): DomainEventClass {
  if (event.type === "watchdog") return { kind: "WatchdogFired", detail: `Watchdog ${event.payload}`.trim(), refreshInventory: false };
  if (event.type !== "lifecycle") return { detail: `${event.type} ${event.payload}`.trim(), refreshInventory: false };
  const { event: word, detail } = splitLifecyclePayload(event.payload);
  const rule = LIFECYCLE[word];
  const kind = typeof rule === "string" ? rule : rule?.[detail];
  const out: DomainEventClass = { detail: event.payload, refreshInventory: REFRESHING.has(word) };
  if (kind !== undefined) out.kind = kind;
  return out;
}

/** libvirt's detail of a Shutdown event when QEMU says the host, not the guest, ended the domain. */
const SHUTDOWN_BY_HOST = "Finished after host request";

/**
 * Classifies a stream of events in order, remembering per domain who asked for the last
 * shutdown. libvirt says so only in the Shutdown event (from QEMU's SHUTDOWN event): "after
 * guest request" when the guest powered off (also when `virsh shutdown` asked it to through
 * ACPI), "after host request" when QEMU was told to quit on the host (SIGTERM, QMP quit).
 * The Stopped Shutdown that follows reads the same for both; after a host request it is
 * reported as StoppedUnrequested, not GuestShutdown. (`virsh destroy` also sends a host
 * Shutdown first, then Stopped Destroyed: one report, as before.)
 */
export class DomainEventClassifier {
  /** Domain name → detail of its Shutdown event, until the domain stops or starts again. */
  private readonly shutdownBy = new Map<string, string>();

  classify(event: VirshEvent): DomainEventClass {
    const cls = classifyDomainEvent(event);
    if (event.type !== "lifecycle") return cls;
    const { event: word, detail } = splitLifecyclePayload(event.payload);
    if (word === "Shutdown") {
      this.shutdownBy.set(event.domainName, detail);
      return cls;
    }
    if (!["Stopped", "Started", "Undefined"].includes(word)) return cls;
    const by = this.shutdownBy.get(event.domainName);
    this.shutdownBy.delete(event.domainName);
    if (word !== "Stopped" || detail !== "Shutdown" || by !== SHUTDOWN_BY_HOST) return cls;
    return { ...cls, kind: "StoppedUnrequested", detail: `${event.payload} (Shutdown ${by})` };
  }
}

/**
 * The kind a domain's current state implies, from `virsh domstate --reason` output
 * (`shut off (destroyed)`, `running (booted)`, `paused (I/O error)`). Used after a reconnect
 * to catch up with events that happened while no event stream was connected. The reasons
 * are virsh's words under LC_ALL=C, not the C enum names: a pause on an I/O error is
 * `paused (I/O error)` (VIR_DOMAIN_PAUSED_IOERROR; seen from libvirt 9.0). `shut off
 * (shutdown)` does not keep who asked for the shutdown: it is read as a guest shutdown.
 */
export function kindFromDomainState(state: string): DomainEventKind | undefined {
  const m = /^(.+?)(?: \((.+)\))?$/.exec(state.trim());
  if (!m) return undefined;
  const [, main = "", reason = ""] = m;
  if (main === "running") return "Started";
  if (main === "crashed") return "Crashed";
  if (main === "paused") return reason === "I/O error" ? "PausedIOError" : undefined;
  if (main !== "shut off") return undefined;
  const byReason: Record<string, DomainEventKind> = { destroyed: "StoppedUnrequested", failed: "StoppedUnrequested", crashed: "Crashed", shutdown: "GuestShutdown" };
  return byReason[reason];
}
