import type {
  ComputeHost,
  InstanceHAPolicyPriorityTierSelector,
  InstanceHAPolicySelector,
  InstanceHAPolicySelectorExclude,
  InstanceHAPolicySelectorMetadataEntry,
} from "../../api/v1alpha1/index.js";
import type { Instance } from "./instance-inventory.js";
import { globMatch } from "./name-glob.js";

/** Where an instance runs, from its ComputeHost: the host's aggregates and availability zone. */
export interface HostPlacement {
  aggregates: string[];
  availabilityZone?: string;
}

/** The placement facts of every service host of a cloud, from its ComputeHosts. */
export function hostPlacements(hosts: readonly ComputeHost[]): Map<string, HostPlacement> {
  const out = new Map<string, HostPlacement>();
  for (const h of hosts) {
    const p: HostPlacement = { aggregates: [...(h.status?.aggregates ?? [])] };
    if (h.status?.availabilityZone) p.availabilityZone = h.status.availabilityZone;
    out.set(h.spec.serviceHost, p);
  }
  return out;
}

/** An instance with the facts of its host, which aggregate and AZ criteria need. */
export interface PlacedInstance {
  instance: Instance;
  aggregates: string[];
  /** The instance's own AZ (Nova's `OS-EXT-AZ`), else its host's. */
  availabilityZone?: string;
}

export function placeInstance(instance: Instance, placements: Map<string, HostPlacement>): PlacedInstance {
  const p = instance.host ? placements.get(instance.host) : undefined;
  const az = instance.availabilityZone || p?.availabilityZone;
  return { instance, aggregates: p?.aggregates ?? [], ...(az ? { availabilityZone: az } : {}) };
}

const anyOf = <T>(list: readonly T[] | undefined, test: (v: T) => boolean): boolean => (list ?? []).some(test);

function metadataMatches(meta: Record<string, string>, e: InstanceHAPolicySelectorMetadataEntry): boolean {
  return Object.hasOwn(meta, e.key) && (e.value === undefined || meta[e.key] === e.value);
}

function projectMatches(i: Instance, p: { id?: string; name?: string; domain?: string }): boolean {
  if (p.id !== undefined) return i.projectId === p.id;
  if (p.name === undefined || i.projectName !== p.name) return false;
  // A domain given in the selector must agree when the instance's domain is known.
  return p.domain === undefined || i.projectDomain === undefined || i.projectDomain === p.domain;
}

const flavorMatches = (i: Instance, f: string): boolean => f === i.flavor.id || f === i.flavor.name;
const imageMatches = (i: Instance, img: string): boolean => (i.imageId !== "" && img === i.imageId) || (i.imageName !== undefined && img === i.imageName);
const groupMatches = (i: Instance, idOrName: string): boolean => i.serverGroups.some((g) => g.id === idOrName || (g.name !== "" && g.name === idOrName));

/**
 * The positive part of a policy selector: every criterion that is set must match (AND);
 * the values of one criterion are alternatives (OR), except `tags` (all of them) and
 * `metadata` (every entry). `allInstances: true` matches everything. Exclusions are
 * separate (see `excludedBy`).
 */
export function selectorMatches(sel: InstanceHAPolicySelector, p: PlacedInstance): boolean {
  const i = p.instance;
  if (sel.allInstances === true) return true;
  const checks: [unknown, () => boolean][] = [
    [sel.instanceIds, () => (sel.instanceIds ?? []).includes(i.id)],
    [sel.projects, () => anyOf(sel.projects, (x) => projectMatches(i, x))],
    [sel.serverGroups, () => anyOf(sel.serverGroups, (g) => (g.id !== undefined ? i.serverGroups.some((x) => x.id === g.id) : i.serverGroups.some((x) => x.name !== "" && x.name === g.name)))],
    [sel.tags, () => (sel.tags ?? []).every((t) => i.tags.includes(t))],
    [sel.anyTags, () => anyOf(sel.anyTags, (t) => i.tags.includes(t))],
    [sel.metadata, () => (sel.metadata ?? []).every((e) => metadataMatches(i.metadata, e))],
    [sel.flavors, () => anyOf(sel.flavors, (f) => flavorMatches(i, f))],
    [sel.images, () => anyOf(sel.images, (img) => imageMatches(i, img))],
    [sel.aggregates, () => anyOf(sel.aggregates, (a) => p.aggregates.includes(a))],
    [sel.availabilityZones, () => anyOf(sel.availabilityZones, (z) => z === p.availabilityZone)],
    [sel.nameGlobs, () => anyOf(sel.nameGlobs, (g) => globMatch(g, i.name))],
  ];
  const set = checks.filter(([v]) => v !== undefined);
  // An empty selector is refused at admission; should one get through, it selects nothing.
  return set.length > 0 && set.every(([, check]) => check());
}

/**
 * The first exclusion criterion that matches (any one excludes), as a short description
 * for the unprotected list, or undefined.
 */
export function excludedBy(ex: InstanceHAPolicySelectorExclude | undefined, p: PlacedInstance): string | undefined {
  if (!ex) return undefined;
  const i = p.instance;
  const hit = <T extends string | InstanceHAPolicySelectorMetadataEntry>(field: string, list: readonly T[] | undefined, test: (v: T) => boolean): string | undefined => {
    const v = (list ?? []).find(test);
    if (v === undefined) return undefined;
    return `exclude.${field} ${typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v.value === undefined ? v.key : `${v.key}=${v.value}`)}`;
  };
  return (
    hit("instanceIds", ex.instanceIds, (id) => id === i.id) ??
    hit("projects", ex.projects, (x) => x === i.projectId || x === i.projectName) ??
    hit("tags", ex.tags, (t) => i.tags.includes(t)) ??
    hit("metadata", ex.metadata, (e) => metadataMatches(i.metadata, e)) ??
    hit("flavors", ex.flavors, (f) => flavorMatches(i, f)) ??
    hit("images", ex.images, (img) => imageMatches(i, img)) ??
    hit("aggregates", ex.aggregates, (a) => p.aggregates.includes(a)) ??
    hit("availabilityZones", ex.availabilityZones, (z) => z === p.availabilityZone) ??
    hit("nameGlobs", ex.nameGlobs, (g) => globMatch(g, i.name))
  );
}

/** A priority tier's selector: every criterion set must match (AND), values of one criterion OR (tags and metadata: all). */
export function tierMatches(sel: InstanceHAPolicyPriorityTierSelector, i: Instance): boolean {
  const checks: [unknown, () => boolean][] = [
    [sel.instanceIds, () => (sel.instanceIds ?? []).includes(i.id)],
    [sel.serverGroups, () => anyOf(sel.serverGroups, (g) => groupMatches(i, g))],
    [sel.tags, () => (sel.tags ?? []).every((t) => i.tags.includes(t))],
    [sel.metadata, () => (sel.metadata ?? []).every((e) => metadataMatches(i.metadata, e))],
    [sel.flavors, () => anyOf(sel.flavors, (f) => flavorMatches(i, f))],
    [sel.images, () => anyOf(sel.images, (img) => imageMatches(i, img))],
    [sel.nameGlobs, () => anyOf(sel.nameGlobs, (g) => globMatch(g, i.name))],
  ];
  const set = checks.filter(([v]) => v !== undefined);
  return set.length > 0 && set.every(([, check]) => check());
}

/**
 * How specific a selector is, for the overlap rule of ADR 0002 ("the policy whose selector
 * sets more criteria"): the number of requirements an instance must meet at once.
 *
 * - every OR-list criterion that is set counts 1 (instanceIds, projects, serverGroups,
 *   anyTags, flavors, images, aggregates, availabilityZones, nameGlobs) — listing more
 *   alternatives widens it, so the length does not count;
 * - `tags` and `metadata` count one per entry, since every entry is a further requirement;
 * - `allInstances` counts 0, and exclusions do not count (they narrow what a policy
 *   protects, not what it claims).
 */
export function selectorSpecificity(sel: InstanceHAPolicySelector): number {
  if (sel.allInstances === true) return 0;
  const orLists = [sel.instanceIds, sel.projects, sel.serverGroups, sel.anyTags, sel.flavors, sel.images, sel.aggregates, sel.availabilityZones, sel.nameGlobs];
  return orLists.filter((l) => l !== undefined).length + (sel.tags?.length ?? 0) + (sel.metadata?.length ?? 0);
}
