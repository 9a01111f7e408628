// A small reader of V8 .heapsnapshot files (the JSON v8.writeHeapSnapshot writes): live
// objects by constructor (count and self size), and the difference between two snapshots,
// largest growth first. Enough to see whether anything grows over a soak.
import { readFileSync } from 'node:fs';

interface SnapshotJson {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface ConstructorTotals {
  count: number;
  size: number;
}

/** Objects by constructor: class name for objects, `(type)` for strings, code, arrays, ... */
export function heapByConstructor(file: string): Map<string, ConstructorTotals> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as SnapshotJson;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const out = new Map<string, ConstructorTotals>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt] ?? 0] ?? '?';
    const name = snap.strings[snap.nodes[i + nameAt] ?? 0] ?? '?';
    const key = type === 'object' || type === 'native' ? name : `(${type})`;
    const t = out.get(key) ?? { count: 0, size: 0 };
    t.count++;
    t.size += snap.nodes[i + sizeAt] ?? 0;
    out.set(key, t);
  }
  return out;
}

export interface Growth {
  name: string;
  count: number;
  size: number;
}

/** later − earlier per constructor, largest size growth first. */
export function heapGrowth(earlier: Map<string, ConstructorTotals>, later: Map<string, ConstructorTotals>): Growth[] {
  const names = new Set([...earlier.keys(), ...later.keys()]);
  const out: Growth[] = [];
  for (const name of names) {
    const a = earlier.get(name) ?? { count: 0, size: 0 };
    const b = later.get(name) ?? { count: 0, size: 0 };
    out.push({ name, count: b.count - a.count, size: b.size - a.size });
  }
  return out.sort((x, y) => y.size - x.size);
}

export function totalSize(m: Map<string, ConstructorTotals>): number {
  let s = 0;
  for (const t of m.values()) s += t.size;
  return s;
}
