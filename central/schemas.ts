// The message contract the office checks every received payload against: the JSON
// Schemas of docs/asyncapi.yaml (the same document the gateway's tests check its own
// messages with), compiled once with ajv.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';
import { CentralError } from './errors.js';

export type MessageSchema = 'StatusMessage' | 'EventMessage' | 'AlertMessage' | 'StatsMessage' | 'ScreeningSummaryMessage' | 'ResponseMessage';

/** docs/asyncapi.yaml, found upward from this module (central/ in tests, dist/central/ when built). */
export function asyncApiFile(): string {
  let dir = import.meta.dirname;
  for (let i = 0; i < 4; i++) {
    const f = path.join(dir, 'docs/asyncapi.yaml');
    if (existsSync(f)) return f;
    dir = path.dirname(dir);
  }
  throw new CentralError('CENTRAL_SCHEMA_MISSING', `docs/asyncapi.yaml not found above ${import.meta.dirname}`);
}

function rewriteRefs(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(rewriteRefs);
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, k === '$ref' && typeof x === 'string' ? x.replace('#/components/schemas/', '') + '.json' : rewriteRefs(x)]),
    );
  }
  return v;
}

export type Validators = Map<string, ValidateFunction>;

export function loadValidators(file = asyncApiFile()): Validators {
  const doc = parse(readFileSync(file, 'utf8')) as { components: { schemas: Record<string, Record<string, unknown>> } };
  const schemas = doc.components.schemas;
  // The gap-repair answer adds `resent` and `lastSeq` to the response (gap contract);
  // accept them even where the document in this build does not list them yet.
  const response = schemas.ResponseMessage as { properties?: Record<string, unknown> } | undefined;
  if (response?.properties) {
    response.properties.resent ??= { type: 'integer', minimum: 0 };
    response.properties.lastSeq ??= { type: 'integer', minimum: 0 };
  }
  const ajv = new Ajv({ allErrors: false, strict: true, strictRequired: false, allowUnionTypes: true });
  const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv) => Ajv;
  addFormats(ajv);
  for (const [name, schema] of Object.entries(schemas)) ajv.addSchema({ ...(rewriteRefs(schema) as object), $id: `${name}.json` });
  return new Map(Object.keys(schemas).map((name) => [name, ajv.getSchema(`${name}.json`)!]));
}

/** One message's problem, or null when valid. */
export function checkAgainst(validators: Validators, schema: MessageSchema, value: unknown): string | null {
  const validate = validators.get(schema);
  if (!validate) return `no schema ${schema} in docs/asyncapi.yaml`;
  if (validate(value)) return null;
  const e = validate.errors?.[0];
  return `${schema}: ${e?.instancePath || '/'} ${e?.message ?? 'invalid'}`;
}
