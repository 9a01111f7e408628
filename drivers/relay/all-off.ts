// The early all-off: switch host-timed relays off before the gateway has loaded anything
// else. A gateway killed mid-pulse leaves an LCUS or dcttech gate open (the board has no
// timer), so the next process must close it first, not after config, store and HTTP.
// Only what the off needs: the off frames, a one-shot serial write, a one-shot HID report.
// serialport and node-hid are imported only when a relay of their kind is configured.
import { dcttechCommand, DCTTECH_CMD } from './dcttech.js';
import { LCUS_OP, lcusFrame } from './lcus.js';

export interface SerialOffTarget {
  kind: 'lcus';
  path: string;
  baudRate: number;
  parity: 'none' | 'even' | 'odd';
  stopBits: 1 | 2;
  /** 1-based channels configured on this port; each gets its own off frame. */
  channels: number[];
}

export interface HidOffTarget {
  kind: 'dcttech-hid';
  vendorId: number;
  productId: number;
  serial?: string;
  channels: number[];
}

export type OffTarget = SerialOffTarget | HidOffTarget;

/** The bytes each target gets: `A0 CH 00 SUM` per LCUS channel, `00 FD N 00…` per dcttech relay. */
export function offFrames(t: OffTarget): Buffer[] {
  return t.kind === 'lcus' ? t.channels.map((ch) => lcusFrame(ch, LCUS_OP.off)) : t.channels.map((ch) => dcttechCommand(DCTTECH_CMD.off, ch));
}

export function describeTarget(t: OffTarget): string {
  if (t.kind === 'lcus') return `lcus ${t.path} channel ${t.channels.join(',')}`;
  const hex = (n: number) => n.toString(16).padStart(4, '0');
  return `dcttech-hid ${hex(t.vendorId)}:${hex(t.productId)}${t.serial ? ` serial ${t.serial}` : ''} relay ${t.channels.join(',')}`;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no completion within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function sendSerial(t: SerialOffTarget): Promise<void> {
  const { SerialPort } = await import('serialport');
  const port = new SerialPort({ path: t.path, baudRate: t.baudRate, parity: t.parity, stopBits: t.stopBits, autoOpen: false, hupcl: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  try {
    for (const frame of offFrames(t)) {
      await new Promise<void>((resolve, reject) => port.write(frame, (err) => (err ? reject(err) : resolve())));
    }
    // Wait until the bytes left the host: closing first could drop them.
    await new Promise<void>((resolve, reject) => port.drain((err) => (err ? reject(err) : resolve())));
  } finally {
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}

async function sendHid(t: HidOffTarget): Promise<void> {
  const mod = await import('node-hid');
  const hid = (mod as unknown as { default?: typeof mod }).default ?? mod;
  const found = (await hid.devicesAsync()).filter((d) => d.vendorId === t.vendorId && d.productId === t.productId && (t.serial === undefined || d.serialNumber === t.serial) && d.path);
  if (found.length === 0) throw new Error('not plugged in');
  for (const d of found) {
    const handle = await hid.HIDAsync.open(d.path!);
    try {
      for (const report of offFrames(t)) await handle.sendFeatureReport(report);
    } finally {
      await handle.close().catch(() => undefined);
    }
  }
}

export interface OffResult {
  target: OffTarget;
  error?: Error;
}

/**
 * Send the off frames to every target, all at once, each bounded by `timeoutMs` so a
 * missing or hung device cannot hold up the start. Never throws: failures are returned.
 */
export async function sendAllOff(targets: readonly OffTarget[], timeoutMs = 1000): Promise<OffResult[]> {
  return Promise.all(
    targets.map(async (target) => {
      try {
        await withTimeout(target.kind === 'lcus' ? sendSerial(target) : sendHid(target), timeoutMs, describeTarget(target));
        return { target };
      } catch (err) {
        return { target, error: err instanceof Error ? err : new Error(String(err)) };
      }
    }),
  );
}
