import type { V1OwnerReference } from "@kubernetes/client-node";
import type { KubeObject } from "./resource-type.js";

/**
 * The owner reference that makes `owner` the controller of a child, so that the garbage
 * collector removes children with their owner. Owner and child must share a namespace.
 */
export function controllerReference(owner: KubeObject): V1OwnerReference {
  const { apiVersion, kind, metadata } = owner;
  if (!apiVersion || !kind || !metadata?.name || !metadata.uid) {
    throw new Error("owner must have apiVersion, kind, metadata.name and metadata.uid");
  }
  return { apiVersion, kind, name: metadata.name, uid: metadata.uid, controller: true, blockOwnerDeletion: true };
}

/** True when `child` names `owner` (by uid) as its controller. */
export function isControlledBy(child: KubeObject, owner: KubeObject): boolean {
  const uid = owner.metadata?.uid;
  return !!uid && (child.metadata?.ownerReferences ?? []).some((r) => r.controller === true && r.uid === uid);
}

/** Adds or replaces the controller reference of `child` (a child has at most one controller). */
export function setControllerReference(child: KubeObject, owner: KubeObject): V1OwnerReference[] {
  const ref = controllerReference(owner);
  const others = (child.metadata?.ownerReferences ?? []).filter((r) => r.uid !== ref.uid && r.controller !== true);
  return [...others, ref];
}
