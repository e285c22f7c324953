import { parseAllDocuments } from "yaml";

/** One Kubernetes object found in a manifest source. */
export interface ManifestDocument {
  /** File name, or "<stdin>". */
  source: string;
  /** 0-based index of the YAML document in the source. */
  documentIndex: number;
  /** 0-based index in the items of a `kind: List` document. */
  itemIndex?: number;
  object: unknown;
}

/** A document that could not be parsed. */
export interface ManifestParseError {
  source: string;
  documentIndex: number;
  message: string;
}

export interface ParsedManifests {
  documents: ManifestDocument[];
  errors: ManifestParseError[];
}

function isList(obj: unknown): obj is { kind: string; items: unknown[] } {
  if (typeof obj !== "object" || obj === null) return false;
  const o = obj as { kind?: unknown; items?: unknown; apiVersion?: unknown };
  return typeof o.kind === "string" && o.kind.endsWith("List") && Array.isArray(o.items);
}

/**
 * Splits multi-document YAML (JSON is YAML too) into objects; `kind: List` (and any *List)
 * documents contribute their items. Empty documents are ignored.
 */
export function parseManifests(text: string, source: string): ParsedManifests {
  const documents: ManifestDocument[] = [];
  const errors: ManifestParseError[] = [];
  parseAllDocuments(text, { uniqueKeys: true }).forEach((doc, documentIndex) => {
    if (doc.errors.length > 0) {
      errors.push({ source, documentIndex, message: doc.errors.map((e) => e.message).join("; ") });
      return;
    }
    const object: unknown = doc.toJS({ maxAliasCount: 100 });
    if (object === null || object === undefined) return;
    if (isList(object)) object.items.forEach((item, itemIndex) => documents.push({ source, documentIndex, itemIndex, object: item }));
    else documents.push({ source, documentIndex, object });
  });
  return { documents, errors };
}
