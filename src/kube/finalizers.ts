import type { KubeObject } from "./resource-type.js";

export function hasFinalizer(obj: KubeObject, finalizer: string): boolean {
  return obj.metadata?.finalizers?.includes(finalizer) ?? false;
}

/** Returns a copy of the finalizer list with `finalizer` added, or undefined if already present. */
export function withFinalizer(obj: KubeObject, finalizer: string): string[] | undefined {
  const list = obj.metadata?.finalizers ?? [];
  return list.includes(finalizer) ? undefined : [...list, finalizer];
}

/** Returns a copy of the finalizer list without `finalizer`, or undefined if it was absent. */
export function withoutFinalizer(obj: KubeObject, finalizer: string): string[] | undefined {
  const list = obj.metadata?.finalizers ?? [];
  return list.includes(finalizer) ? list.filter((f) => f !== finalizer) : undefined;
}

export function isDeleting(obj: KubeObject): boolean {
  return !!obj.metadata?.deletionTimestamp;
}
