// Content identity of a message for dedupe: the canonical JSON (keys sorted, recursively)
// without `historical`, which is transport metadata (a redelivered or resent event differs
// only there), hashed with SHA-256.
import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function contentHash(message: Record<string, unknown>): string {
  const { historical: _transport, ...content } = message;
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}
