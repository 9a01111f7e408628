// The payload schemas of docs/asyncapi.yaml, compiled with ajv, and a check of any MQTT
// message by its topic. Used by every MQTT test's subscriber, so each message the tests
// see is checked against the documented contract.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';

const ROOT = path.resolve(import.meta.dirname, '../../..');
export const ASYNCAPI_FILE = path.join(ROOT, 'docs/asyncapi.yaml');

interface AsyncApiDoc {
  asyncapi: string;
  channels: Record<string, { address: string }>;
  components: { schemas: Record<string, unknown> };
}

export function loadAsyncApi(): AsyncApiDoc {
  return parse(readFileSync(ASYNCAPI_FILE, 'utf8')) as AsyncApiDoc;
}

/** `#/components/schemas/X` → `X.json`, so each schema can stand alone in ajv. */
function rewriteRefs(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(rewriteRefs);
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [
        k,
        k === '$ref' && typeof x === 'string' ? x.replace('#/components/schemas/', '') + '.json' : rewriteRefs(x),
      ]),
    );
  }
  return v;
}

let compiled: Map<string, ValidateFunction> | null = null;

export function schemaValidators(): Map<string, ValidateFunction> {
  if (compiled) return compiled;
  const doc = loadAsyncApi();
  // strictRequired off: an if/then may require a property the outer schema defines.
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
  // ajv-formats is CommonJS; its default export lands on .default under NodeNext.
  const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv) => Ajv;
  addFormats(ajv);
  for (const [name, schema] of Object.entries(doc.components.schemas)) {
    ajv.addSchema({ ...(rewriteRefs(schema) as object), $id: `${name}.json` });
  }
  compiled = new Map(Object.keys(doc.components.schemas).map((name) => [name, ajv.getSchema(`${name}.json`)!]));
  return compiled;
}

/** Which schema a topic's payload follows; null for topics outside the contract. */
export function schemaForTopic(topic: string): string | null {
  if (/\/status$/.test(topic)) return 'StatusMessage';
  if (/\/events$/.test(topic)) return 'EventMessage';
  if (/\/alerts$/.test(topic)) return 'AlertMessage';
  if (/\/stats$/.test(topic)) return 'StatsMessage';
  if (/\/screening$/.test(topic)) return 'ScreeningSummaryMessage';
  if (/\/response\/[^/]+$/.test(topic)) return 'ResponseMessage';
  if (/\/cmd\/[^/]+$/.test(topic)) return 'UpdateJws';
  return null;
}

/** Problems of one message, empty when it follows its schema (or is a retained-clear ''). */
export function checkMessage(topic: string, payload: string): string[] {
  const name = schemaForTopic(topic);
  if (name === null || payload === '') return [];
  const validate = schemaValidators().get(name);
  if (!validate) return [`no schema ${name}`];
  let value: unknown = payload;
  if (name !== 'UpdateJws') {
    try {
      value = JSON.parse(payload);
    } catch {
      return [`${topic}: not JSON: ${payload.slice(0, 80)}`];
    }
  }
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${topic} (${name}) ${e.instancePath || '/'} ${e.message ?? ''}: ${payload.slice(0, 200)}`);
}
