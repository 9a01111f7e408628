// Content identity of a message for dedupe: the canonical JSON (keys sorted, recursively)
// without `historical`, which is transport metadata (a redelivered or resent event differs
// only there), hashed with SHA-256.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../shared/canonical.js';

export { canonicalJson };

export function contentHash(message: Record<string, unknown>): string {
  const { historical: _transport, ...content } = message;
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}
