import { CustomObjectsApi, EventsV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { ComputeHost, Incident } from "../api/v1alpha1/index.js";
import type { DemoEvent, Snapshot } from "./timeline.js";

const GROUP = "ha.vmkeeper.dev";
const VERSION = "v1alpha1";

/** Reads the demo namespace's Incidents, ComputeHosts and Events through the API server. */
export class KubeSnapshotReader {
  private readonly custom: CustomObjectsApi;
  private readonly events: EventsV1Api;

  constructor(kubeConfig: KubeConfig, private readonly namespace: string) {
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.events = kubeConfig.makeApiClient(EventsV1Api);
  }

  private async list<T>(plural: string): Promise<T[]> {
    const r = (await this.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.namespace, plural })) as { items?: T[] };
    return r.items ?? [];
  }

  async incidents(): Promise<Incident[]> {
    return this.list<Incident>("incidents");
  }

  async hosts(): Promise<ComputeHost[]> {
    return this.list<ComputeHost>("computehosts");
  }

  async read(): Promise<Snapshot> {
    const atMs = Date.now();
    const [incidents, hosts, ev] = await Promise.all([this.incidents(), this.hosts(), this.events.listNamespacedEvent({ namespace: this.namespace })]);
    const events: DemoEvent[] = ev.items.map((e) => ({
      metadata: { name: e.metadata?.name, uid: e.metadata?.uid },
      eventTime: e.eventTime instanceof Date ? e.eventTime.toISOString() : e.eventTime === undefined ? undefined : String(e.eventTime),
      type: e.type,
      reason: e.reason,
      note: e.note,
      regarding: { kind: e.regarding?.kind, name: e.regarding?.name },
    }));
    return { atMs, incidents, hosts, events };
  }
}
