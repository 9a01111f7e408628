// The device part of a lane's configuration: each of scanner, thermometer and relay is
// chosen by `type`, with the options of that device type. `sim` is the demo default.
import { z } from 'zod';

const devicePath = z
  .string({ error: 'expected a device path such as /dev/serial/by-id/usb-1a86_USB_Serial-if00-port0' })
  .regex(/^\//, 'expected an absolute device path such as /dev/serial/by-id/usb-1a86_USB_Serial-if00-port0 (stable across reboots, unlike /dev/ttyUSB0)');

const BAUD_RATES = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400] as const;
const baudRate = z
  .number()
  .refine((n) => (BAUD_RATES as readonly number[]).includes(n), `expected one of the baud rates ${BAUD_RATES.join(', ')}`)
  .default(9600);

/** A USB id as a number (YAML 0x16c0) or a hex string ("16c0", "0x16C0"). */
const usbId = z
  .union([z.number().int(), z.string().regex(/^(0x)?[0-9a-fA-F]{1,4}$/, 'expected a USB id like 0x16c0 or "16c0"')], { error: 'expected a USB id like 0x16c0 or "16c0"' })
  .transform((v) => (typeof v === 'number' ? v : parseInt(v.replace(/^0x/i, ''), 16)))
  .refine((n) => n >= 0 && n <= 0xffff, 'expected a USB id from 0x0000 to 0xffff');

/** How fast a lost device is retried: the cap bounds how long a replugged one waits. */
const reconnect = z
  .strictObject({
    initialMs: z.number().int().min(10).max(10_000).default(100),
    maxMs: z.number().int().min(100).max(60_000).default(1000),
  })
  .prefault({});

const serial = {
  path: devicePath,
  baudRate,
  parity: z.enum(['none', 'even', 'odd']).default('none'),
  stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
  reconnect,
};

const sim = z.strictObject({ type: z.literal('sim') });

/** "expected type "sim", "gm65" or ...": the same wording as the rest of the config errors. */
function typeError(options: readonly { shape: { type: { value: unknown } } }[]) {
  const list = options.map((o) => `"${String(o.shape.type.value)}"`);
  const text = `expected type ${list.slice(0, -1).join(', ')} or ${list.at(-1)}`;
  return { error: (issue: { code?: string }) => (issue.code === 'invalid_union' ? text : undefined) };
}

const offsetC = z.number().min(-5).max(5).default(0);
const replyTimeoutMs = z.number().int().min(20).max(10_000);

const scannerTypes = [
  sim,
  z.strictObject({
    type: z.literal('line'),
    ...serial,
    suffix: z.enum(['CR', 'CRLF', 'LF']).default('CR'),
    /** The scanner sends an AIM symbology id (e.g. "]Q1") before each code. */
    aimPrefix: z.boolean().default(false),
    /** Honeywell: send SYN T CR on connect to trigger (for presentation-less set-ups). */
    honeywellTrigger: z.boolean().default(false),
    maxLength: z.number().int().min(16).max(8192).default(4096),
  }),
  z.strictObject({
    type: z.literal('gm65'),
    ...serial,
    /** Written to register 0x0000 on every connect; leave out to keep the module's own setting. */
    mode: z.enum(['manual', 'command', 'continuous', 'induction']).optional(),
    check: z.enum(['crc', 'none']).default('none'),
    maxLength: z.number().int().min(16).max(8192).default(4096),
  }),
  z.strictObject({
    type: z.literal('evdev-wedge'),
    /** The scanner's keyboard node, e.g. /dev/input/by-id/usb-Newland_...-event-kbd. */
    path: devicePath,
    /** struct timeval size: 16 on 64-bit kernels, 8 on 32-bit ARM. */
    timevalBytes: z.union([z.literal(16), z.literal(8)]).default(16),
    maxLength: z.number().int().min(16).max(8192).default(2048),
    reconnect,
  }),
  z.strictObject({
    type: z.literal('hid-pos'),
    vendorId: usbId.default(0x0c2e),
    productId: usbId,
    serial: z.string().min(1).optional(),
    reconnect,
  }),
] as const;
export const scannerConfig = z.discriminatedUnion('type', scannerTypes, typeError(scannerTypes));

const thermometerTypes = [
  sim,
  z.strictObject({ type: z.literal('lu90614'), ...serial, mode: z.enum(['body', 'object']).default('body'), offsetC, replyTimeoutMs: replyTimeoutMs.default(1000) }),
  z.strictObject({ type: z.literal('mlx90614-66'), ...serial, continuous: z.boolean().default(false), offsetC, replyTimeoutMs: replyTimeoutMs.default(1000) }),
  z.strictObject({ type: z.literal('gd60914'), ...serial, mode: z.enum(['forehead', 'wrist', 'object']).default('forehead'), offsetC, replyTimeoutMs: replyTimeoutMs.default(1000) }),
] as const;
export const thermometerConfig = z.discriminatedUnion('type', thermometerTypes, typeError(thermometerTypes));

const channel = (max: number) => z.number().int().min(1, 'expected a relay channel from 1').max(max, `expected a relay channel up to ${max}`).default(1);
const pollMs = z.number().int().min(0).max(600_000);

const relayTypes = [
  sim,
  z.strictObject({
    type: z.literal('dcttech-hid'),
    vendorId: usbId.default(0x16c0),
    productId: usbId.default(0x05df),
    /** Board id (the 5 ASCII characters the board reports as its serial); needed with several boards. */
    serial: z.string().min(1).optional(),
    channel: channel(8),
    pollMs: pollMs.default(2000),
    reconnect,
  }),
  z.strictObject({ type: z.literal('lcus'), ...serial, channel: channel(8), feedback: z.boolean().default(false), pollMs: pollMs.default(5000) }),
  z.strictObject({
    type: z.literal('modbus'),
    ...serial,
    address: z.number().int().min(1).max(247).default(1),
    channel: channel(255),
    /** "coils": Waveshare-style, FC05 flash; "registers": R413D08-style, FC06 06SS timed open. */
    profile: z.enum(['coils', 'registers']),
    replyTimeoutMs: replyTimeoutMs.default(300),
    pollMs: pollMs.default(5000),
  }),
] as const;
export const relayConfig = z.discriminatedUnion('type', relayTypes, typeError(relayTypes));

const passageSensorTypes = [
  sim,
  z.strictObject({
    /** A beam or door sensor on a digital input of a Modbus RTU I/O module, polled with FC02. */
    type: z.literal('modbus-input'),
    ...serial,
    address: z.number().int().min(1).max(247).default(1),
    /** The module's input the sensor is wired to, 1-based (input 1 = discrete input 0 on the wire). */
    input: z.number({ error: 'expected the input number the sensor is wired to, 1 to 64' }).int().min(1, 'expected an input from 1').max(64, 'expected an input up to 64'),
    /** false: the input reads 1 while the beam is broken; true: it reads 0. */
    activeLow: z.boolean().default(false),
    pollMs: z.number().int().min(20).max(1000).default(50),
    /** Debounce: the beam must be seen broken at least this long to count a person. */
    minActiveMs: z.number().int().min(0).max(2000).default(40),
    /** Broken longer than this = blocked or misaligned beam: a fault, never counted. */
    stuckAfterMs: z.number().int().min(5000).max(600_000).default(30_000),
    replyTimeoutMs: replyTimeoutMs.default(200),
  }),
] as const;
export const passageSensorConfig = z.discriminatedUnion('type', passageSensorTypes, typeError(passageSensorTypes));

export type ScannerConfig = z.infer<typeof scannerConfig>;
export type ThermometerConfig = z.infer<typeof thermometerConfig>;
export type RelayConfig = z.infer<typeof relayConfig>;
export type PassageSensorConfig = z.infer<typeof passageSensorConfig>;
export type DeviceConfig = ScannerConfig | ThermometerConfig | RelayConfig;

const ROLES = ['scanner', 'thermometer', 'relay', 'passageSensor'] as const;

type ModbusDevice = Extract<RelayConfig, { type: 'modbus' }> | Extract<PassageSensorConfig, { type: 'modbus-input' }>;

function isModbus(d: DeviceConfig | PassageSensorConfig): d is ModbusDevice {
  return d.type === 'modbus' || d.type === 'modbus-input';
}

const SERIAL_SETTINGS = ['baudRate', 'parity', 'stopBits'] as const;

/** Why `d` cannot join `other` on one Modbus line, or null when it can. */
function modbusConflict(d: ModbusDevice, other: { where: string; d: ModbusDevice }, key: string): string | null {
  const o = other.d;
  const differ = SERIAL_SETTINGS.filter((k) => d[k] !== o[k]);
  if (differ.length > 0) {
    const theirs = SERIAL_SETTINGS.map((k) => `${k} ${o[k]}`).join(', ');
    const ours = differ.map((k) => `${k} ${d[k]}`).join(', ');
    return `expected the serial settings of ${other.where}, which shares ${key}: ${theirs}; got ${ours} (Modbus devices on one port must agree on baudRate, parity and stopBits)`;
  }
  if (d.address !== o.address) return null;
  if (d.type === 'modbus' && o.type === 'modbus') {
    if (d.profile !== o.profile) return `expected profile ${o.profile} like ${other.where}: both drive the board at address ${d.address} on ${key}, and a board has one profile`;
    if (d.channel === o.channel) return `expected a relay channel of its own; address ${d.address} channel ${d.channel} on ${key} is already driven by ${other.where}`;
  }
  if (d.type === 'modbus-input' && o.type === 'modbus-input' && d.input === o.input) {
    return `expected an input of its own; address ${d.address} input ${d.input} on ${key} is already read by ${other.where} (one beam would be counted twice)`;
  }
  return null;
}

/**
 * A serial port or HID device can be opened by one driver only: list every device that
 * names one already used by another lane or role, as [path, message] pairs. The
 * exception is a Modbus RTU line: gate relays of type `modbus` and passage sensors of
 * type `modbus-input` (of any lanes) may share a port, which the gateway then drives
 * through one ModbusBus, when they agree on the serial settings and no two of them
 * drive the same relay channel or read the same input of one address.
 */
export function sharedDeviceIssues(
  lanes: readonly { scanner: ScannerConfig; thermometer: ThermometerConfig; relay: RelayConfig; passageSensor?: PassageSensorConfig | undefined }[],
): { path: (string | number)[]; message: string }[] {
  const seen = new Map<string, { where: string; d: DeviceConfig | PassageSensorConfig }[]>();
  const issues: { path: (string | number)[]; message: string }[] = [];
  lanes.forEach((lane, i) => {
    for (const role of ROLES) {
      const d: DeviceConfig | PassageSensorConfig | undefined = lane[role];
      if (d === undefined) continue;
      let key: string | null = null;
      if ('path' in d) key = `serial ${d.path}`;
      else if ('productId' in d) key = `HID ${d.vendorId.toString(16)}:${d.productId.toString(16)}${d.serial ? ` serial ${d.serial}` : ''}`;
      if (key === null) continue;
      const where = `lanes[${i}].${role}`;
      const users = seen.get(key) ?? [];
      const first = users[0];
      if (first === undefined) {
        seen.set(key, [{ where, d }]);
        continue;
      }
      const others = isModbus(d) ? users.flatMap((u) => (isModbus(u.d) ? [{ where: u.where, d: u.d }] : [])) : [];
      if (!isModbus(d) || others.length < users.length) {
        issues.push({ path: [i, role], message: `expected a device of its own; ${key} is already used by ${first.where}` });
        continue;
      }
      const conflict = others.map((o) => modbusConflict(d, o, key)).find((m) => m !== null);
      if (conflict) issues.push({ path: [i, role], message: conflict });
      else users.push({ where, d });
    }
  });
  return issues;
}
