// `dcc verify`: check EU Digital COVID Certificates ("HC1:" QR texts) against trusted
// document signer certificates. Single mode reads one QR text on stdin; batch mode reads
// JSON lines {"prefix", "trust", "at"} and prints one result line per input line.
// A refused certificate is a result (exit 0); only usage errors exit non-zero.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { buildDccTrust, verifyDcc, type DccResult, type DccTrust, type DccTrustInput } from '../credentials/dcc/index.js';
import { parseInstant } from '../policy/time.js';

/** A usage error: main.ts prints errors carrying a string code without a stack (exit 2). */
class DccCliError extends Error {
  readonly code = 'CLI_USAGE';
}

const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/** An ISO 8601 date or time; without a zone it is China time, as everywhere in the CLI. */
export function parseAt(value: string, where: string): number {
  const s = value.trim();
  const ms = ISO.test(s) ? parseInstant(s.replace(/^(\d{4}-\d{2}-\d{2}) /, '$1T')) : Number.NaN;
  if (!Number.isFinite(ms)) throw new DccCliError(`${where}: expected an ISO 8601 time such as 2021-06-01T12:00:00Z, got "${value}"`);
  return ms;
}

function trustEntries(value: unknown, where: string): DccTrustInput[] {
  if (!Array.isArray(value)) throw new DccCliError(`${where}: expected a JSON array of {"kid": "<base64>", "certificate": "<base64 DER>"}`);
  return value as DccTrustInput[];
}

function readTrustFile(file: string): DccTrust {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new DccCliError(`--trust: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new DccCliError(`--trust ${file}: not JSON: ${(err as Error).message}`);
  }
  // An unusable entry throws CredentialError TRUST_KEY_INVALID naming it: a usage error here.
  return buildDccTrust(trustEntries(parsed, `--trust ${file}`));
}

/** The result as printed: times as ISO text; the payload (personal data) only when asked for. */
export function resultJson(r: DccResult, withPayload: boolean): Record<string, unknown> {
  if (!r.valid) return { valid: false, stage: r.stage, code: r.code, kid: r.kid, type: r.type, message: r.message };
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    valid: true,
    stage: null,
    code: r.code,
    kid: r.kid,
    type: r.type,
    issuer: r.issuer,
    issuedAt: iso(r.issuedAt),
    expiresAt: iso(r.expiresAt),
    ver: r.hcert.ver,
    ...(withPayload ? { hcert: r.hcert } : {}),
  };
}

function describe(r: DccResult): string {
  if (r.valid) return `valid: ${r.type} certificate, issuer ${r.issuer ?? '-'}, kid ${r.kid}, expires ${r.expiresAt === null ? '-' : new Date(r.expiresAt).toISOString()}`;
  return `invalid at ${r.stage}: ${r.code} (${r.message})`;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new DccCliError('pipe the QR text on stdin, e.g. `... dcc verify --trust trust.json --json < qr.txt`');
  let text = '';
  for await (const chunk of process.stdin) text += (chunk as Buffer).toString('utf8');
  return text;
}

interface VerifyFlags {
  trust?: string;
  at?: string;
  json?: boolean;
  batch?: boolean;
  payload?: boolean;
}

/** Trust lists repeat across batch lines; parse each distinct one once. */
class TrustCache {
  private readonly cache = new Map<string, DccTrust>();
  get(entries: DccTrustInput[], line: number): DccTrust {
    const key = JSON.stringify(entries);
    const hit = this.cache.get(key);
    if (hit) return hit;
    // A batch line is data, not configuration: an unusable entry is reported and left out,
    // so the line still gets its result (a certificate no usable entry vouches for fails at "trust").
    const usable: DccTrustInput[] = [];
    entries.forEach((entry, i) => {
      try {
        buildDccTrust([entry]);
        usable.push(entry);
      } catch (err) {
        process.stderr.write(`line ${line}: trust entry ${i} left out: ${(err as Error).message}\n`);
      }
    });
    const trust = buildDccTrust(usable);
    if (this.cache.size >= 64) this.cache.clear();
    this.cache.set(key, trust);
    return trust;
  }
}

async function verifyBatch(flags: VerifyFlags): Promise<void> {
  if (process.stdin.isTTY) throw new DccCliError('--batch: pipe JSON lines {"prefix", "trust", "at"} on stdin');
  const defaultAt = flags.at === undefined ? Date.now() : parseAt(flags.at, '--at');
  const cache = new TrustCache();
  const bad: string[] = [];
  let line = 0;
  for await (const text of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    line++;
    if (text.trim() === '') continue;
    try {
      let item: unknown;
      try {
        item = JSON.parse(text);
      } catch {
        throw new DccCliError(`line ${line}: not JSON`);
      }
      if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new DccCliError(`line ${line}: expected a JSON object {"prefix", "trust", "at"}`);
      const o = item as { prefix?: unknown; trust?: unknown; at?: unknown; kid?: unknown; certificate?: unknown };
      if (typeof o.prefix !== 'string') throw new DccCliError(`line ${line}: "prefix" must be the QR text as a string`);
      const at = o.at === undefined || o.at === null ? defaultAt : typeof o.at === 'string' ? parseAt(o.at, `line ${line}: "at"`) : Number.NaN;
      if (!Number.isFinite(at)) throw new DccCliError(`line ${line}: "at" must be an ISO 8601 time`);
      // A conformance-case line ({prefix, kid, certificate, at}) names its one DSC directly.
      const given = o.trust ?? (typeof o.certificate === 'string' ? [{ kid: o.kid, certificate: o.certificate }] : []);
      const trust = cache.get(trustEntries(given, `line ${line}: "trust"`), line);
      process.stdout.write(`${JSON.stringify(resultJson(verifyDcc(o.prefix, trust, at), flags.payload === true))}\n`);
    } catch (err) {
      if (!(err instanceof DccCliError)) throw err;
      // Keep one output line per input line, so results still line up with the cases.
      bad.push(err.message);
      process.stdout.write(`${JSON.stringify({ error: err.message })}\n`);
    }
  }
  if (bad.length > 0) throw new DccCliError(`${bad.length} unusable input line(s); first: ${bad[0] ?? ''}`);
}

async function verifySingle(flags: VerifyFlags): Promise<void> {
  if (flags.trust === undefined) throw new DccCliError('--trust <trust.json> is required (or --batch with the trust on each line)');
  const trust = readTrustFile(flags.trust);
  const at = flags.at === undefined ? Date.now() : parseAt(flags.at, '--at');
  // The QR text exactly as scanned; the newline a shell or file adds is not part of it.
  const qr = (await readStdin()).replace(/\r?\n$/, '');
  const result = verifyDcc(qr, trust, at);
  process.stdout.write(flags.json ? `${JSON.stringify(resultJson(result, flags.payload === true))}\n` : `${describe(result)}\n`);
}

export function registerDccCommands(program: Command): void {
  const dcc = program.command('dcc').description('EU Digital COVID Certificates ("HC1:" QR codes)');
  dcc
    .command('verify')
    .description('verify a DCC read from stdin against trusted document signer certificates; exit 0 whether valid or not')
    .option('--trust <file>', 'JSON array of {"kid": "<base64>", "certificate": "<base64 DER>"} (single mode)')
    .option('--at <time>', 'verification time, ISO 8601 (default now; without a zone: China time)')
    .option('--json', 'print the result as one JSON object')
    .option('--batch', 'read JSON lines {"prefix", "trust", "at"} and print one JSON result per line')
    .option('--payload', 'include the certificate payload (personal data) in JSON results')
    .action(async (flags: VerifyFlags) => {
      if (flags.batch) {
        if (flags.trust !== undefined) throw new DccCliError('--batch takes the trust from each line; drop --trust');
        await verifyBatch(flags);
      } else {
        await verifySingle(flags);
      }
    });
}
