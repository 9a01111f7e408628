// Finds health data anywhere in a value: the ledger rows as SQLite holds them (JSON text
// columns are read too), HTTP answers, MQTT payloads. Written apart from the gateway's own
// list of health codes (gateway/policy/health-checks.ts) on purpose: a code the gateway
// forgot to list is still found here.

/** Keys that only ever hold health data. `temperature` is allowed when null, `readings`/`itinerary` when empty. */
const HEALTH_KEYS = new Set(['health', 'healthCode', 'test', 'travel', 'sampledAt', 'riskLevel', 'visits', 'celsius', 'leave', 'riskAreas']);
const EMPTY_OK = new Set(['readings', 'itinerary', 'riskAreas']);
/** Values that name a health fact: reason codes, alert kinds, code colours, test results, and the words for them. */
const HEALTH_VALUE = /^(HEALTH_CODE_|TEST_|TRAVEL_|TEMP_|CREW_ITINERARY_)|^(fever|health-code|risk-area|red|yellow|green|positive|negative)$/;
const HEALTH_WORDS = /体温|测温|健康码|核酸|发热|行程|口罩|temperature|fever|health code|nucleic|thermometer reading/i;

/** Where in `value` health data sits, as paths with what was found; empty when none. */
export function healthFindings(value: unknown, at = '$'): string[] {
  if (typeof value === 'string') {
    const t = value.trim();
    if ((t.startsWith('{') && t.endsWith('}')) || (t.startsWith('[') && t.endsWith(']'))) {
      try {
        return healthFindings(JSON.parse(t) as unknown, `${at}(json)`);
      } catch {
        // not JSON after all: read as text
      }
    }
    return HEALTH_VALUE.test(value) || HEALTH_WORDS.test(value) ? [`${at} = ${JSON.stringify(value.slice(0, 80))}`] : [];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => healthFindings(v, `${at}[${i}]`));
  if (typeof value !== 'object' || value === null) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const p = `${at}.${k}`;
    if (k === 'temperature') {
      if (v !== null) out.push(`${p} = ${JSON.stringify(v)}`);
    } else if (EMPTY_OK.has(k) && Array.isArray(v) && v.length === 0) {
      continue;
    } else if (HEALTH_KEYS.has(k) || k === 'readings' || k === 'itinerary') {
      out.push(`${p} (key)`);
    } else {
      out.push(...healthFindings(v, p));
    }
  }
  return out;
}
