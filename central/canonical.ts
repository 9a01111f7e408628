// Content identity of a message for dedupe: the canonical JSON (keys sorted, recursively)
// without `historical`, which is transport metadata (a redelivered or resent event differs
// only there), hashed with SHA-256.
import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  // Plain loops and string appends: this runs for every event and alert received; the
  // entries/filter/sort/map/join form took about 1.4 × as long (100 000 events, 3 runs:
  // 590–710 ms against 400–540 ms).
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i > 0 ? ',' : '') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(k)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
}

export function contentHash(message: Record<string, unknown>): string {
  const { historical: _transport, ...content } = message;
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}
