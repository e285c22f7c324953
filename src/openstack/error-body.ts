import { isRecord } from "./json-read.js";

export interface ErrorBody {
  message: string;
  /** Nova's fault name (`badRequest`, `itemNotFound`, ...) or Keystone's `title`. */
  fault?: string;
}

/**
 * Nova wraps errors as `{"<fault>": {"code": N, "message": "..."}}`, Keystone and
 * keystonemiddleware as `{"error": {"code", "title", "message"}}`, proxies send HTML or
 * text. Returns a short, single-line message in every case.
 */
export function parseErrorBody(body: string): ErrorBody {
  let doc: unknown;
  try {
    doc = JSON.parse(body) as unknown;
  } catch {
    return { message: shorten(body.replace(/<[^>]*>/g, " ")) };
  }
  if (isRecord(doc)) {
    if (typeof doc.message === "string") return { message: shorten(doc.message) };
    for (const [fault, v] of Object.entries(doc)) {
      if (isRecord(v) && typeof v.message === "string") {
        const title = fault === "error" && typeof v.title === "string" ? v.title : fault;
        return { message: shorten(v.message), fault: title };
      }
    }
  }
  return { message: shorten(body) };
}

function shorten(s: string): string {
  const one = s.replace(/\s+/g, " ").trim();
  return one.length > 300 ? `${one.slice(0, 297)}...` : one;
}
