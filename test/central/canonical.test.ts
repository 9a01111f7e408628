import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalContent, canonicalJson, contentHash } from '../../central/canonical.js';

/** The same value with every object's keys inserted in reverse order. */
function reversedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reversedKeys);
  if (typeof v === 'object' && v !== null) {
    // fromEntries makes own properties, so a "__proto__" key from JSON stays a key.
    return Object.fromEntries(Object.keys(v).reverse().map((k) => [k, reversedKeys((v as Record<string, unknown>)[k])]));
  }
  return v;
}

describe('canonical content of a message', () => {
  it('is JSON of the same value, whatever order its keys were written in', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const c = canonicalJson(v);
        expect(JSON.parse(c)).toEqual(JSON.parse(JSON.stringify(v)));
        expect(canonicalJson(reversedKeys(v))).toBe(c);
      }),
      { numRuns: 2000 },
    );
  });

  it('does not depend on the order the publisher wrote the keys in', () => {
    const a = { v: 1, id: 'x', reasons: ['B', 'A'], alerts: [{ kind: 'fever', code: 'T' }] };
    const b = { alerts: [{ code: 'T', kind: 'fever' }], reasons: ['B', 'A'], id: 'x', v: 1 };
    expect(contentHash(a)).toBe(contentHash(b));
    // Array order is content: a reordered list of reasons is another message.
    expect(contentHash(a)).not.toBe(contentHash({ ...b, reasons: ['A', 'B'] }));
  });

  it('ignores `historical`, which only says how the message travelled', () => {
    const e = { v: 1, id: 'x', seq: 3 };
    expect(contentHash({ ...e, historical: true })).toBe(contentHash({ ...e, historical: false }));
    expect(contentHash({ ...e, seq: 4 })).not.toBe(contentHash(e));
  });

  it('keeps a "__proto__" key a publisher sent as content (JSON makes it an own key)', () => {
    expect(canonicalJson(JSON.parse('{"b":1,"__proto__":{"x":false}}'))).toBe('{"__proto__":{"x":false},"b":1}');
  });

  it('writes a message without its top-level `historical` exactly as canonicalJson writes the rest', () => {
    // The fast form (JSON.stringify with a key list) must give the text of the plain one,
    // including where it steps aside: `historical` or an inherited key name deeper down.
    const key = fc.oneof(fc.string(), fc.constantFrom('historical', '__proto__', 'constructor', 'toString', '1', '10', 'a'));
    const value = fc.letrec((tie) => ({
      json: fc.oneof({ depthSize: 'small' }, fc.jsonValue({ maxDepth: 1 }), fc.array(tie('json'), { maxLength: 3 }), tie('object')),
      object: fc.dictionary(key, tie('json'), { maxKeys: 5 }),
    }));
    fc.assert(
      fc.property(value.object, fc.boolean(), (v, historical) => {
        const message = JSON.parse(JSON.stringify({ ...v, historical })) as Record<string, unknown>;
        const rest = JSON.parse(JSON.stringify(message)) as Record<string, unknown>;
        delete rest.historical;
        expect(canonicalContent(message)).toBe(canonicalJson(rest));
      }),
      { numRuns: 3000 },
    );
    const withProto = JSON.parse('{"b":{"__proto__":{"x":1}},"a":{"y":2},"historical":true}') as Record<string, unknown>;
    expect(canonicalContent(withProto)).toBe('{"a":{"y":2},"b":{"__proto__":{"x":1}}}');
  });
});

