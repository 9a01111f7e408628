// First thing the gateway process does: read the relay part of the configuration with as
// little as possible (no schema, no store, no logger) and shut every host-timed relay.
// Lenient on purpose: the full validation comes later and reports every problem; here a
// relay whose settings can be read is shut even if another part of the file is wrong.
// Modbus relay boards are skipped: both supported profiles time the pulse on the board
// (docs/deploy.md), and their driver sends all-off again once the bus is up.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { chinaTime } from '../display-time.js';
import { logFormat } from './log-format.js';
import { parseAndKeep } from './config-document.js';
import { describeTarget, sendAllOff, type HidOffTarget, type OffTarget, type SerialOffTarget } from '../../drivers/relay/all-off.js';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function channelOf(r: Obj): number | null {
  const ch = r['channel'] ?? 1;
  return typeof ch === 'number' && Number.isInteger(ch) && ch >= 1 && ch <= 8 ? ch : null;
}

function usbId(v: unknown, fallback: number): number | null {
  if (v === undefined) return fallback;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^(0x)?[0-9a-f]{1,4}$/i.test(v)) return parseInt(v.replace(/^0x/i, ''), 16);
  return null;
}

/** The host-timed relays named by a parsed config document, one target per port/board. */
export function hostTimedRelays(doc: unknown): OffTarget[] {
  const lanes = isObj(doc) && Array.isArray(doc['lanes']) ? doc['lanes'] : [];
  const serial = new Map<string, SerialOffTarget>();
  const hid = new Map<string, HidOffTarget>();
  for (const lane of lanes) {
    const r = isObj(lane) ? lane['relay'] : undefined;
    if (!isObj(r)) continue;
    const ch = channelOf(r);
    if (ch === null) continue;
    if (r['type'] === 'lcus' && typeof r['path'] === 'string' && r['path'].startsWith('/')) {
      const baudRate = typeof r['baudRate'] === 'number' ? r['baudRate'] : 9600;
      const parity = r['parity'] === 'even' || r['parity'] === 'odd' ? r['parity'] : 'none';
      const stopBits = r['stopBits'] === 2 ? 2 : 1;
      const t = serial.get(r['path']) ?? { kind: 'lcus', path: r['path'], baudRate, parity, stopBits, channels: [] };
      if (!t.channels.includes(ch)) t.channels.push(ch);
      serial.set(r['path'], t);
    } else if (r['type'] === 'dcttech-hid') {
      const vendorId = usbId(r['vendorId'], 0x16c0);
      const productId = usbId(r['productId'], 0x05df);
      if (vendorId === null || productId === null) continue;
      const board = typeof r['serial'] === 'string' ? r['serial'] : undefined;
      const key = `${vendorId}:${productId}:${board ?? ''}`;
      const t = hid.get(key) ?? { kind: 'dcttech-hid', vendorId, productId, ...(board === undefined ? {} : { serial: board }), channels: [] };
      if (!t.channels.includes(ch)) t.channels.push(ch);
      hid.set(key, t);
    }
  }
  return [...serial.values(), ...hid.values()];
}

/** One pino-shaped JSON line on stdout, so the journal shows it with the rest (readable on a terminal, like the rest). */
function log(level: 30 | 40, msg: string, extra: Obj = {}): void {
  if (logFormat() === 'pretty') process.stdout.write(`${chinaTime(Date.now(), { ms: true })} ${level === 30 ? 'INFO' : 'WARN'}: ${msg}\n`);
  else process.stdout.write(`${JSON.stringify({ level, time: Date.now(), pid: process.pid, phase: 'early-off', ...extra, msg })}\n`);
}

/**
 * Shut the host-timed relays of the config file `GATEWAY_CONFIG` names (else the demo
 * default). Never throws: an unreadable file is left to the full loader to report.
 */
export async function earlyAllOff(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let targets: OffTarget[];
  try {
    const file = path.resolve(env['GATEWAY_CONFIG'] ?? 'config/gateway.yaml');
    // The YAML parse keeps what it could read even past a syntax error further down (and a
    // duplicate key as its later value); it is kept for the full check (config-document.ts).
    targets = hostTimedRelays(parseAndKeep(readFileSync(file, 'utf8')).doc.toJS());
  } catch {
    return;
  }
  if (targets.length === 0) return;
  for (const r of await sendAllOff(targets)) {
    if (r.error) log(40, `early all-off not delivered to ${describeTarget(r.target)}: ${r.error.message}`, { relay: describeTarget(r.target) });
    else log(30, `early all-off sent to ${describeTarget(r.target)}`, { relay: describeTarget(r.target) });
  }
}
