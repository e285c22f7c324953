/** RFC 3339 with second precision: the format of metav1.Time in status fields. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** RFC 3339 with microseconds: metav1.MicroTime (Lease renew times, Event times). */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}
