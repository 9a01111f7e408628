// One YAML parse of the configuration file per start. The early relay all-off reads the
// file first (early-off.ts) and keeps its parse; the full check (config/load.ts) takes it
// when the text is the same, instead of parsing the file again. Both parse the one way
// the check needs (every duplicate key and syntax error kept as an error): what the
// all-off reads from it is the same either way, a later duplicate key winning.
import { LineCounter, parseDocument, type Document } from 'yaml';

export interface ParsedYaml {
  doc: Document;
  lineCounter: LineCounter;
}

export function parseYaml(text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  return { doc: parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true }), lineCounter };
}

/** The last parse kept by parseAndKeep, for one taker. */
let kept: { text: string; parsed: ParsedYaml } | null = null;

/** Parse, and keep the result for the next takeParse of the same text. */
export function parseAndKeep(text: string): ParsedYaml {
  const parsed = parseYaml(text);
  kept = { text, parsed };
  return parsed;
}

/** The kept parse of exactly this text (given out once, then dropped), else a new parse. */
export function takeParse(text: string): ParsedYaml {
  const hit = kept?.text === text ? kept.parsed : null;
  kept = null;
  return hit ?? parseYaml(text);
}
