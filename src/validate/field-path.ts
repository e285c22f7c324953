/** Field paths in the API server's notation: spec.levels[0].devices[1].kind. */

const PLAIN_FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Appends a field name; names that are not plain identifiers are bracketed like map keys. */
export function childPath(parent: string, field: string): string {
  if (!PLAIN_FIELD.test(field)) return `${parent}[${field}]`;
  return parent === "" ? field : `${parent}.${field}`;
}

export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

/** Converts an ajv instancePath (a JSON pointer) into a field path, using the data to tell list indexes from map keys. */
export function pointerToPath(pointer: string, data: unknown): string {
  if (pointer === "") return "";
  let path = "";
  let node: unknown = data;
  for (const raw of pointer.slice(1).split("/")) {
    const segment = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node)) {
      const i = Number(segment);
      path = indexPath(path, i);
      node = node[i];
    } else {
      path = childPath(path, segment);
      node = typeof node === "object" && node !== null ? (node as Record<string, unknown>)[segment] : undefined;
    }
  }
  return path;
}

/**
 * Applies a CEL rule's fieldPath (".a.b" or "['a.b']", relative to the node that declares the
 * rule) to the node's path.
 */
export function applyFieldPath(base: string, fieldPath: string | undefined): string {
  if (!fieldPath) return base;
  let path = base;
  const re = /\.([A-Za-z_][A-Za-z0-9_]*)|\['([^']*)'\]|\[([0-9]+)\]/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(fieldPath)) !== null) {
    if (m[1] !== undefined) path = childPath(path, m[1]);
    else if (m[2] !== undefined) path = childPath(path, m[2]);
    else if (m[3] !== undefined) path = indexPath(path, Number(m[3]));
  }
  return path;
}
