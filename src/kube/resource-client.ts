import { isNotFound } from "./api-error.js";
import type { KubeRestClient, Query } from "./rest-client.js";
import { apiVersionOf, FIELD_MANAGER, resourcePath, type KubeObject, type ResourceType } from "./resource-type.js";

export interface ObjectList<T> {
  items: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

const APPLY = "application/apply-patch+yaml";
const MERGE = "application/merge-patch+json";

/**
 * Typed CRUD for one resource type. Writes carry field manager `vmkeeper`; status goes
 * through the status subresource; `get` returns undefined only for 404 (any other error
 * is thrown — "any error means not found" is a classic operator bug).
 */
export class ResourceClient<T extends KubeObject> {
  constructor(readonly rest: KubeRestClient, readonly type: ResourceType) {}

  async get(namespace: string | undefined, name: string): Promise<T | undefined> {
    try {
      return await this.rest.request<T>("GET", resourcePath(this.type, namespace, name));
    } catch (err: unknown) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Lists every page; `namespace` undefined lists across all namespaces. */
  async list(namespace: string | undefined, query: Query = {}, accept?: string): Promise<ObjectList<T>> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await this.rest.request<{ items: T[] | null; metadata?: ObjectList<T>["metadata"] }>("GET", resourcePath(this.type, namespace), {
        query: { ...query, limit: 500, continue: cont },
        accept,
      });
      // Empty metadata-only lists come back with `items: null`.
      items.push(...(page.items ?? []));
      resourceVersion = page.metadata?.resourceVersion;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { items, metadata: { resourceVersion } };
  }

  create(obj: T, opts: { unguarded?: boolean } = {}): Promise<T> {
    return this.rest.request<T>("POST", resourcePath(this.type, obj.metadata?.namespace), {
      body: this.withTypeMeta(obj),
      query: { fieldManager: FIELD_MANAGER },
      unguarded: opts.unguarded,
    });
  }

  /** PUT with the object's resourceVersion: fails with 409 when someone else wrote first. */
  update(obj: T, opts: { unguarded?: boolean } = {}): Promise<T> {
    return this.rest.request<T>("PUT", resourcePath(this.type, obj.metadata?.namespace, obj.metadata?.name), {
      body: this.withTypeMeta(obj),
      query: { fieldManager: FIELD_MANAGER },
      unguarded: opts.unguarded,
    });
  }

  updateStatus(obj: T): Promise<T> {
    return this.rest.request<T>("PUT", resourcePath(this.type, obj.metadata?.namespace, obj.metadata?.name, "status"), {
      body: this.withTypeMeta(obj),
      query: { fieldManager: FIELD_MANAGER },
    });
  }

  mergePatch(namespace: string | undefined, name: string, patch: unknown, subresource?: string): Promise<T> {
    return this.rest.request<T>("PATCH", resourcePath(this.type, namespace, name, subresource), {
      body: patch,
      contentType: MERGE,
      query: { fieldManager: FIELD_MANAGER },
    });
  }

  /** Server-side apply of the fields vmkeeper owns (status when `subresource` is "status"). */
  apply(obj: T, subresource?: string, opts: { unguarded?: boolean } = {}): Promise<T> {
    return this.rest.request<T>("PATCH", resourcePath(this.type, obj.metadata?.namespace, obj.metadata?.name, subresource), {
      body: this.withTypeMeta(obj),
      contentType: APPLY,
      query: { fieldManager: FIELD_MANAGER, force: true },
      unguarded: opts.unguarded,
    });
  }

  async delete(namespace: string | undefined, name: string, uid?: string): Promise<void> {
    try {
      await this.rest.request("DELETE", resourcePath(this.type, namespace, name), {
        body: uid ? { kind: "DeleteOptions", apiVersion: "v1", preconditions: { uid } } : undefined,
      });
    } catch (err: unknown) {
      if (!isNotFound(err)) throw err;
    }
  }

  private withTypeMeta(obj: T): T {
    return { ...obj, apiVersion: apiVersionOf(this.type), kind: this.type.kind };
  }
}
