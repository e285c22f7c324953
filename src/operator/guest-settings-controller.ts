import { GuestSettingsReconciler } from "../controllers/guest-settings/guest-settings-reconciler.js";
import type { ProtectionIndex } from "../controllers/instance-ha-policy/protection-index.js";
import type { GuestControlHub } from "../guest-control/guest-control-hub.js";
import type { Controller, Reconciler } from "../kube/controller.js";
import type { OperatorContext } from "./operator-context.js";

/**
 * The guest-settings controller (leader only), one key per node agent host: re-run for a
 * host when its agent's channels or stream change, and for every host when a policy or the
 * protection index changes.
 */
export function guestSettingsController(ctx: OperatorContext, hub: GuestControlHub, protection: ProtectionIndex, make: (name: string, reconciler: Reconciler) => Controller, leading: AbortSignal): Controller {
  const { informers: inf, clock } = ctx;
  const controller = make("guestsettings", new GuestSettingsReconciler({
    channels: (host) => hub.channels(host),
    generation: (host) => hub.generation(host),
    sendSettings: (host, groups) => hub.sendSettings(host, groups),
    ownerOf: (id) => protection.ownerOf(id),
    getPolicy: (ns, name) => inf.policies.get(`${ns}/${name}`),
    nowMs: () => clock.monotonicMs(),
    protectionReady: () => inf.policies.items().every((p) => p.metadata?.deletionTimestamp !== undefined || protection.has(`${p.metadata?.namespace ?? ""}/${p.spec.cloudRef.name}`)),
  }));
  const all = (): void => {
    for (const host of hub.hosts()) controller.enqueue(host);
  };
  controller.watch(inf.policies, () => hub.hosts());
  const stops = [hub.onChannels((host) => controller.enqueue(host)), protection.onChange(all)];
  leading.addEventListener("abort", () => {
    for (const s of stops) s();
  }, { once: true });
  all();
  return controller;
}
