// Prototype keys in signed JSON. JSON.parse makes `__proto__` an own key, but any later
// copy by assignment (zod's record parsing, `obj[key] = v`) turns it into the copy's
// prototype: `{"overrides": {"__proto__": {"feverThreshold": 45}}}` was applied as `{}`
// with 45 inherited by every read, and stored as `{}`. No update kind has a free-form
// key, so these names are refused anywhere in an update instead of being handled.
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The path of the first object key named `__proto__`, `constructor` or `prototype` in a
 * parsed JSON value, or null when there is none. Iterative: a deeply nested payload
 * cannot overflow the stack.
 */
export function forbiddenKeyPath(value: unknown, root = '(value)'): string | null {
  const stack: [unknown, string][] = [[value, root]];
  while (stack.length > 0) {
    const [v, at] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${at}.${i}`]);
      continue;
    }
    for (const key of Object.keys(v)) {
      if (FORBIDDEN_KEYS.has(key)) return `${at}.${key}`;
      stack.push([(v as Record<string, unknown>)[key], `${at}.${key}`]);
    }
  }
  return null;
}
