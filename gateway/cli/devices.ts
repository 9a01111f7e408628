// `devices`: what is plugged in (serial ports with by-id paths and USB ids, HID devices,
// input devices), marking what a driver recognises. `sim <type> --port <path>`: run a
// device simulator on a serial path, e.g. one end of a socat pty pair, for manual tests.
import { Command, Option } from 'commander';
import { readdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { DCTTECH_PRODUCT_ID, DCTTECH_VENDOR_ID, dcttechRelayCount } from '../../drivers/relay/dcttech.js';
import { ModbusInputSim } from '../../drivers/sensor/modbus-input.sim.js';
import { createRelaySimulator, isRelaySimType, RELAY_SIMULATORS } from '../../drivers/relay/sim-factory.js';
import { HONEYWELL_VID } from '../../drivers/scanner/hid-pos.js';
import { BYTE_SCANNER_SIMULATORS, createSimulator, THERMOMETER_SIMULATORS, type ByteScannerSimType, type SimFaults, type ThermometerSimType } from '../../drivers/sim/index.js';
import { loadNodeHid, type HidDeviceInfo } from '../../drivers/transport/hid.js';
import { SerialLink } from '../../drivers/transport/serial.js';
import { chinaTime } from '../display-time.js';

/** A usage problem: printed as "error: ..." with exit code 2 by the CLI's runner. */
class DevicesCliError extends Error {
  readonly code = 'CLI_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'DevicesCliError';
  }
}

const hex4 = (n: number) => n.toString(16).padStart(4, '0');

/** What our drivers make of a USB id: config `type` values that fit, or null. */
export function recogniseUsb(kind: 'serial' | 'hid', vendorId: number | undefined, productId: number | undefined, product?: string): string | null {
  if (vendorId === undefined || productId === undefined) return null;
  if (kind === 'hid') {
    if (vendorId === DCTTECH_VENDOR_ID && productId === DCTTECH_PRODUCT_ID) {
      const n = dcttechRelayCount(product);
      return `relay: dcttech-hid${n === null ? '' : ` (${n} relay${n === 1 ? '' : 's'})`}`;
    }
    if (vendorId === HONEYWELL_VID) return 'scanner: hid-pos (Honeywell)';
    return null;
  }
  const id = `${hex4(vendorId)}:${hex4(productId)}`;
  switch (id) {
    case '1a86:7523':
      return 'CH340 serial: relay lcus, or a UART module (gm65, lu90614, mlx90614-66, gd60914, modbus over RS-485)';
    case '1a86:55d4':
    case '0403:6001':
    case '0403:6015':
    case '10c4:ea60':
    case '067b:2303':
      return 'USB-serial adapter: gm65, line, lu90614, mlx90614-66, gd60914, modbus';
    case '0c2e:0b61':
    case '0c2e:0b6a':
      return 'scanner: line (Honeywell USB-COM)';
    default:
      if (vendorId === HONEYWELL_VID) return 'scanner: line (Honeywell USB-COM)';
      if (vendorId === 0x1eab) return 'scanner: line (Newland USB-COM)';
      return null;
  }
}

/** name → absolute target of every symlink in a folder (e.g. /dev/serial/by-id). */
function symlinks(dir: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    try {
      const target = realpathSync(path.join(dir, name));
      out.set(target, [...(out.get(target) ?? []), path.join(dir, name)]);
    } catch {
      // a dangling link: the device is gone
    }
  }
  return out;
}

export interface Listed {
  kind: 'serial' | 'hid' | 'input';
  path: string;
  stable: string[];
  vendorId?: string;
  productId?: string;
  serialNumber?: string;
  product?: string;
  recognised: string | null;
}

export async function listDevices(): Promise<{ devices: Listed[]; notes: string[] }> {
  const notes: string[] = [];
  const devices: Listed[] = [];
  const { SerialPort } = await import('serialport');
  const byId = symlinks('/dev/serial/by-id');
  const byPath = symlinks('/dev/serial/by-path');
  let ports: Awaited<ReturnType<typeof SerialPort.list>> = [];
  try {
    ports = await SerialPort.list();
  } catch (err) {
    // serialport lists through udevadm on Linux; a machine without udev still has HID and keyboards to show.
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT' || /udevadm ENOENT/.test((err as Error).message);
    notes.push(`serial ports not listed: ${(err as Error).message}${missing ? ' (install udev: apt-get install udev)' : ''}`);
  }
  for (const p of ports) {
    const vid = p.vendorId ? parseInt(p.vendorId, 16) : undefined;
    const pid = p.productId ? parseInt(p.productId, 16) : undefined;
    devices.push({
      kind: 'serial',
      path: p.path,
      stable: [...(byId.get(p.path) ?? []), ...(byPath.get(p.path) ?? [])],
      ...(p.vendorId ? { vendorId: p.vendorId } : {}),
      ...(p.productId ? { productId: p.productId } : {}),
      ...(p.serialNumber ? { serialNumber: p.serialNumber } : {}),
      ...(p.manufacturer ? { product: p.manufacturer } : {}),
      recognised: recogniseUsb('serial', vid, pid),
    });
  }
  let hid: HidDeviceInfo[] = [];
  try {
    hid = await (await loadNodeHid()).devices();
  } catch (err) {
    notes.push(`HID devices not listed: ${(err as Error).message}`);
  }
  for (const d of hid) {
    devices.push({
      kind: 'hid',
      path: d.path ?? '',
      stable: [],
      vendorId: hex4(d.vendorId),
      productId: hex4(d.productId),
      ...(d.serialNumber ? { serialNumber: d.serialNumber } : {}),
      ...(d.product ? { product: d.product } : {}),
      recognised: recogniseUsb('hid', d.vendorId, d.productId, d.product),
    });
  }
  for (const [target, links] of symlinks('/dev/input/by-id')) {
    const kbd = links.filter((l) => l.endsWith('-event-kbd'));
    if (kbd.length === 0) continue;
    devices.push({ kind: 'input', path: target, stable: kbd, recognised: 'keyboard: evdev-wedge scanner if this is the scanner' });
  }
  if (devices.every((d) => d.kind !== 'serial' || d.stable.length === 0)) {
    notes.push('pseudo-terminals (socat) are not listed: give their link path directly');
  }
  return { devices, notes };
}

/** The devices as a table with a header row; each device's stable paths and driver match on lines below it. */
export function formatDeviceTable(devices: readonly Listed[]): string {
  const rows = devices.map((d) => ({
    mark: d.recognised ? '*' : ' ',
    kind: d.kind,
    path: d.path || '-',
    usb: d.vendorId && d.productId ? `${d.vendorId}:${d.productId}` : '-',
    serial: d.serialNumber ?? '-',
    product: d.product ?? '-',
  }));
  const header = { mark: ' ', kind: 'KIND', path: 'PATH', usb: 'USB ID', serial: 'SERIAL', product: 'PRODUCT' };
  const width = (k: 'kind' | 'path' | 'usb' | 'serial') => Math.max(...[header, ...rows].map((r) => r[k].length));
  const [wk, wp, wu, ws] = [width('kind'), width('path'), width('usb'), width('serial')];
  const line = (r: typeof header) => `${r.mark} ${r.kind.padEnd(wk)}  ${r.path.padEnd(wp)}  ${r.usb.padEnd(wu)}  ${r.serial.padEnd(ws)}  ${r.product}`.trimEnd();
  const indent = ' '.repeat(2 + wk + 2);
  return (
    [line(header), ...devices.flatMap((d, i) => [line(rows[i] ?? header), ...d.stable.map((s) => `${indent}${s}`), ...(d.recognised ? [`${indent}→ ${d.recognised}`] : [])])].join('\n') +
    '\n'
  );
}

function parseIntFlag(value: string, flag: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new DevicesCliError(`${flag}: expected a whole number from ${min} to ${max}, got "${value}"`);
  return n;
}

interface SimFlags {
  port: string;
  baud: string;
  silent?: boolean;
  garbage?: string;
  corrupt?: boolean;
  split?: boolean;
  slow?: string;
  chunkGap?: string;
  code?: string[];
  celsius?: string;
  profile?: 'coils' | 'registers';
  address?: string;
  input?: string;
  feedback?: boolean;
}

function faultsOf(o: SimFlags): Partial<SimFaults> {
  const f: Partial<SimFaults> = {};
  if (o.silent) f.silent = true;
  if (o.corrupt) f.corruptChecksum = true;
  if (o.split) f.splitFrames = true;
  if (o.garbage !== undefined) f.garbageBytes = parseIntFlag(o.garbage, '--garbage', 0, 4096);
  if (o.slow !== undefined) f.slowMs = parseIntFlag(o.slow, '--slow', 0, 60_000);
  if (o.chunkGap !== undefined) f.chunkGapMs = parseIntFlag(o.chunkGap, '--chunk-gap', 0, 60_000);
  return f;
}

const SIM_TYPES = [...BYTE_SCANNER_SIMULATORS.filter((t) => t !== 'evdev-wedge'), ...THERMOMETER_SIMULATORS, ...RELAY_SIMULATORS, 'modbus-input'];

async function runSim(type: string, o: SimFlags): Promise<void> {
  if (!SIM_TYPES.includes(type as (typeof SIM_TYPES)[number])) {
    throw new DevicesCliError(`unknown device type "${type}"; on a serial port: ${SIM_TYPES.join(', ')} (HID devices and evdev-wedge cannot run on a serial port)`);
  }
  const baudRate = parseIntFlag(o.baud, '--baud', 300, 4_000_000);
  const faults = faultsOf(o);
  const link = new SerialLink({ path: o.port, baudRate }, { backoff: { initialMs: 100, maxMs: 1000 } });
  const say = (line: string) => process.stderr.write(`[sim ${type}] ${line}\n`);
  link.on('open', () => say(`port ${o.port} open`));
  link.on('close', (err?: Error) => say(`port lost: ${err?.message ?? 'closed'}; waiting for it to come back`));
  let onLine: (line: string) => Promise<void>;
  let stop: () => void;
  if (isRelaySimType(type)) {
    const sim = createRelaySimulator(type, link, {
      faults,
      ...(o.profile ? { profile: o.profile } : {}),
      ...(o.address !== undefined ? { address: parseIntFlag(o.address, '--address', 1, 247) } : {}),
      ...(o.feedback ? { feedback: true } : {}),
    });
    sim.on('frame', (f: Buffer) => process.stdout.write(`${chinaTime(Date.now(), { ms: true })} frame ${f.toString('hex').replace(/(..)(?!$)/g, '$1 ')}\n`));
    sim.on('pulse', (p: { channel: number; ms: number }) => process.stdout.write(`${chinaTime(Date.now(), { ms: true })} pulse channel ${p.channel} ${p.ms} ms\n`));
    sim.start();
    onLine = async (line) => applyKnob(line, sim, say);
    stop = () => sim.stop();
  } else if (type === 'modbus-input') {
    const sim = new ModbusInputSim(link, {
      faults,
      ...(o.address !== undefined ? { address: parseIntFlag(o.address, '--address', 1, 247) } : {}),
      ...(o.input !== undefined ? { beamInput: parseIntFlag(o.input, '--input', 1, 8) } : {}),
    });
    sim.start();
    onLine = async (line) => {
      // "pass" or "pass 800": someone walks through the beam (broken that many ms).
      const m = /^pass(?:\s+(\d+))?$/.exec(line);
      if (m) {
        await sim.pass(m[1] === undefined ? 300 : parseIntFlag(m[1], 'pass', 0, 600_000));
        say('someone passed the beam');
      } else applyKnob(line, sim, say);
    };
    stop = () => sim.stop();
  } else if ((THERMOMETER_SIMULATORS as readonly string[]).includes(type)) {
    const sim = createSimulator(type as ThermometerSimType, link, { faults });
    if (o.celsius !== undefined) sim.setTemperature(Number(o.celsius));
    sim.start();
    onLine = async (line) => {
      const n = Number(line);
      if (line !== '' && Number.isFinite(n)) {
        sim.setTemperature(n);
        say(`temperature now ${n} °C`);
      } else applyKnob(line, sim, say);
    };
    stop = () => sim.stop();
  } else {
    const sim = createSimulator(type as ByteScannerSimType, link, { faults });
    sim.start();
    const present = async (code: string) => {
      if (!link.isOpen) return say('port not open; code not sent');
      await sim.present(code);
      say(`presented a code of ${code.length} characters`);
    };
    link.once('open', () => void Promise.all((o.code ?? []).map(present)));
    onLine = async (line) => {
      if (line.startsWith(':')) applyKnob(line, sim, say);
      else if (line !== '') await present(line);
    };
    stop = () => sim.stop();
  }
  await link.start();
  const what = isRelaySimType(type) ? '' : type === 'modbus-input' ? '"pass" or "pass MS" (someone through the beam), or ' : (THERMOMETER_SIMULATORS as readonly string[]).includes(type) ? 'a temperature, or ' : 'a code to present, or ';
  say(`running; type ${what}:silent on|off, :corrupt on|off, :split on|off, :garbage N, :slow MS, :chunk-gap MS; Ctrl-C ends`);
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (l) => void onLine(l.trim()).catch((err: unknown) => say(`error: ${(err as Error).message}`)));
  await new Promise<void>((resolve) => {
    const end = () => resolve();
    process.once('SIGINT', end);
    process.once('SIGTERM', end);
    rl.once('close', () => {
      // With stdin closed (a pipe, or </dev/null) keep running until a signal.
    });
  });
  rl.close();
  stop();
  link.removeAllListeners('close');
  await link.stop();
}

/** `:silent on`, `:garbage 5`, ...: flip a fault knob while the simulator runs. */
function applyKnob(line: string, sim: { setFaults(f: Partial<SimFaults>): void }, say: (s: string) => void): void {
  const m = /^:(silent|corrupt|split|garbage|slow|chunk-gap)\s+(\S+)$/.exec(line);
  if (!m) {
    if (line !== '') say(`unknown command "${line}"`);
    return;
  }
  const [, knob, value] = m as unknown as [string, string, string];
  const on = value === 'on' || value === 'true' || value === '1';
  const n = Number(value);
  const set: Partial<SimFaults> =
    knob === 'silent'
      ? { silent: on }
      : knob === 'corrupt'
        ? { corruptChecksum: on }
        : knob === 'split'
          ? { splitFrames: on }
          : knob === 'garbage'
            ? { garbageBytes: Number.isFinite(n) ? n : 0 }
            : knob === 'slow'
              ? { slowMs: Number.isFinite(n) ? n : 0 }
              : { chunkGapMs: Number.isFinite(n) ? n : 0 };
  sim.setFaults(set);
  say(`faults: ${JSON.stringify(set)}`);
}

export function registerDeviceCommands(program: Command): void {
  program
    .command('devices')
    .description('list serial ports (with /dev/serial/by-id paths and USB ids), HID devices and keyboards, marking those a driver recognises')
    .option('--json', 'one JSON object per line')
    .action(async (o: { json?: boolean }) => {
      const { devices, notes } = await listDevices();
      if (o.json) for (const d of devices) process.stdout.write(`${JSON.stringify(d)}\n`);
      else if (devices.length === 0) process.stdout.write('no serial ports, HID devices or keyboards found\n');
      else {
        process.stdout.write(formatDeviceTable(devices));
        notes.unshift('* = a driver recognises it; → the config type(s) that fit; indented paths are the stable ones to put in the config');
      }
      for (const n of notes) process.stderr.write(`note: ${n}\n`);
    });

  program
    .command('sim <device-type>')
    .description(`run a device simulator on a serial path, e.g. one end of a socat pty pair (${SIM_TYPES.join(', ')})`)
    .requiredOption('--port <path>', 'serial path the simulator opens (it reopens it when it vanishes)')
    .option('--baud <n>', 'baud rate (a pty ignores it)', '9600')
    .option('--code <text>', 'scanner: present this code once the port is open (repeatable)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--celsius <n>', 'thermometer: the temperature it reports')
    .addOption(new Option('--profile <profile>', 'modbus-relay: coils (FC05 flash) or registers (FC06 06SS)').choices(['coils', 'registers']))
    .option('--address <n>', 'modbus-relay, modbus-input: slave address (default 1)')
    .option('--input <n>', 'modbus-input: the input the beam is wired to (default 1)')
    .option('--feedback', 'lcus-relay: answer on/off/query frames')
    .option('--silent', 'fault: ignore commands and send nothing')
    .option('--garbage <n>', 'fault: n random bytes before each frame')
    .option('--corrupt', 'fault: corrupt the checksum of each frame')
    .option('--split', 'fault: write each frame in random chunks')
    .option('--slow <ms>', 'fault: delay each reply')
    .option('--chunk-gap <ms>', 'fault: pause between the chunks of a split frame')
    .action((type: string, o: SimFlags) => runSim(type, o));
}
