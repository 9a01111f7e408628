// Builds a lane's devices from its configuration: real drivers on supervised links
// (serial, HID, evdev), or the simulated devices of the demo. A lane whose three
// devices are all `sim` is left to buildSimLane, which also gives it the sim controls.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { DcttechRelay } from '../drivers/relay/dcttech.js';
import { LcusRelay } from '../drivers/relay/lcus.js';
import { ModbusRelay } from '../drivers/relay/modbus.js';
import { SimRelay } from '../drivers/relay/sim-relay.js';
import { EvdevWedgeScanner } from '../drivers/scanner/evdev-wedge.js';
import { Gm65Scanner } from '../drivers/scanner/gm65.js';
import { HidPosScanner } from '../drivers/scanner/hid-pos.js';
import { LineScanner } from '../drivers/scanner/line-scanner.js';
import { SimScanner } from '../drivers/scanner/sim-scanner.js';
import { ModbusPassageSensor } from '../drivers/sensor/modbus-input.js';
import { SimPassageSensor } from '../drivers/sensor/sim-sensor.js';
import { Gd60914 } from '../drivers/thermometer/gd60914.js';
import { Lu90614 } from '../drivers/thermometer/lu90614.js';
import { Mlx90614Board } from '../drivers/thermometer/mlx90614-66.js';
import { SimThermometer } from '../drivers/thermometer/sim-thermometer.js';
import { openEvdev } from '../drivers/transport/evdev.js';
import { HidDeviceLink, type HidBackend } from '../drivers/transport/hid.js';
import { ModbusBus, type ModbusBusChannel } from '../drivers/transport/modbus-bus.js';
import { SerialLink, type PortFactory } from '../drivers/transport/serial.js';
import { SupervisedLink } from '../drivers/transport/supervisor.js';
import type { ByteLink, PassageSensorDevice, RelayDevice, ScannerDevice, ThermometerDevice } from '../drivers/types.js';
import type { PassageSensorConfig, RelayConfig, ScannerConfig, ThermometerConfig } from './config/device-schema.js';
import type { LaneConfig } from './config/schema.js';
import type { LaneDevices } from './lane/lane.js';

export interface DeviceFactoryDeps {
  logger: Logger;
  now?: () => number;
  /** Tests put SerialPortMock here; default the real serialport. */
  createPort?: PortFactory;
  /** Tests put a fake node-hid here; default node-hid, loaded on first use. */
  hidBackend?: () => Promise<HidBackend>;
  /**
   * The serial ports several Modbus devices share. buildLaneDevices makes one for its
   * own lane when none is given; pass one made from every lane to share across lanes.
   */
  sharedPorts?: SharedModbusPorts;
}

/** A link the factory starts after its device and stops after it. */
interface OwnedLink extends NodeJS.EventEmitter {
  start(): Promise<void>;
  stop(): Promise<void>;
}

interface Startable {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Is every device of this lane simulated? */
export function isSimLane(lane: Pick<LaneConfig, 'scanner' | 'thermometer' | 'relay'>): boolean {
  return lane.scanner.type === 'sim' && lane.thermometer.type === 'sim' && lane.relay.type === 'sim';
}

/**
 * The lane's devices, or null for an all-sim lane (buildSimLane handles those). Each
 * real device owns its link: device.start() also starts the link (after the device
 * listens, so it sees the first 'open'), device.stop() stops the link after the device.
 */
export function buildLaneDevices(lane: LaneConfig, deps: DeviceFactoryDeps): LaneDevices | null {
  if (isSimLane(lane)) return null;
  if (deps.sharedPorts === undefined) deps = { ...deps, sharedPorts: new SharedModbusPorts([lane]) };
  // The lane's logger already names the lane.
  const log = deps.logger;
  return {
    scanner: createScanner(lane.scanner, deps, log.child({ device: 'scanner', type: lane.scanner.type })),
    thermometer: createThermometer(lane.thermometer, deps, log.child({ device: 'thermometer', type: lane.thermometer.type })),
    relay: createRelay(lane.relay, deps, log.child({ device: 'relay', type: lane.relay.type })),
    ...(lane.passageSensor ? { sensor: buildPassageSensor(lane.passageSensor, deps) } : {}),
  };
}

type Serial = { path: string; baudRate: number; parity: 'none' | 'even' | 'odd'; stopBits: 1 | 2; reconnect: { initialMs: number; maxMs: number } };

/** A Modbus device's link: a channel of its port's bus when the port is shared, else a serial link of its own. */
function modbusLink(c: Serial, name: string, timeoutMs: number, deps: DeviceFactoryDeps): { channel: ByteLink; lease: OwnedLink } {
  const shared = deps.sharedPorts?.claim(c, name, timeoutMs, deps);
  if (shared) return shared;
  const link = serialLink(c, deps);
  return { channel: link, lease: link };
}

/**
 * Serial ports named by more than one Modbus device (a relay of type modbus, a passage
 * sensor of type modbus-input) of the given lanes: each gets one SerialLink and one
 * ModbusBus, built on first use, and every device on it a channel of the bus. The link
 * starts with the first of its devices and stops after the last. A port named by one
 * device only is not shared: that device owns its link as before.
 */
export class SharedModbusPorts {
  readonly #sharedPaths = new Set<string>();
  readonly #ports = new Map<string, SharedPort>();

  constructor(lanes: readonly { relay: RelayConfig; passageSensor?: PassageSensorConfig | undefined }[]) {
    const seen = new Set<string>();
    for (const d of lanes.flatMap((l) => [l.relay, l.passageSensor])) {
      if (d?.type !== 'modbus' && d?.type !== 'modbus-input') continue;
      if (seen.has(d.path)) this.#sharedPaths.add(d.path);
      seen.add(d.path);
    }
  }

  /** A channel of the port's bus and the lease that starts/stops its link, or null when `c.path` is not shared. */
  claim(c: Serial, name: string, timeoutMs: number, deps: DeviceFactoryDeps): { channel: ModbusBusChannel; lease: OwnedLink } | null {
    if (!this.#sharedPaths.has(c.path)) return null;
    let port = this.#ports.get(c.path);
    if (port === undefined) {
      // The configuration check made every device on this path agree on the serial settings.
      const link = serialLink(c, deps);
      port = { link, bus: new ModbusBus(link, { baudRate: c.baudRate, where: c.path, ...(deps.now ? { now: deps.now } : {}) }), running: 0, starting: Promise.resolve() };
      this.#ports.set(c.path, port);
    }
    return { channel: port.bus.channel(name, { timeoutMs }), lease: new PortLease(port) };
  }
}

interface SharedPort {
  link: SerialLink;
  bus: ModbusBus;
  /** Started leases. */
  running: number;
  /** The link's first open attempt, which every starting lease waits for (as an owned link's start() would). */
  starting: Promise<void>;
}

/** One device's hold on a shared port: the link runs while any holder is started. Relays the link's events for the log. */
class PortLease extends EventEmitter implements OwnedLink {
  readonly #port: SharedPort;
  #started = false;

  constructor(port: SharedPort) {
    super();
    this.#port = port;
    for (const event of ['open', 'close', 'retry']) port.link.on(event, (...args: unknown[]) => this.emit(event, ...args));
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    if (this.#port.running++ === 0) this.#port.starting = this.#port.link.start();
    await this.#port.starting;
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    if (--this.#port.running === 0) await this.#port.link.stop();
  }
}

function serialLink(c: Serial, deps: DeviceFactoryDeps): SerialLink {
  return new SerialLink(
    { path: c.path, baudRate: c.baudRate, parity: c.parity, stopBits: c.stopBits },
    { backoff: c.reconnect, ...(deps.createPort ? { createPort: deps.createPort } : {}), ...(deps.now ? { now: deps.now } : {}) },
  );
}

function hidLink(c: { vendorId: number; productId: number; serial?: string | undefined; reconnect: { initialMs: number; maxMs: number } }, deps: DeviceFactoryDeps): HidDeviceLink {
  return new HidDeviceLink(
    { vendorId: c.vendorId, productId: c.productId, ...(c.serial === undefined ? {} : { serial: c.serial }) },
    { backoff: c.reconnect, ...(deps.hidBackend ? { backend: deps.hidBackend } : {}), ...(deps.now ? { now: deps.now } : {}) },
  );
}

export function createScanner(c: ScannerConfig, deps: DeviceFactoryDeps, log: Logger): ScannerDevice {
  const now = deps.now ? { now: deps.now } : {};
  switch (c.type) {
    case 'sim':
      return new SimScanner(deps.now);
    case 'line': {
      const link = serialLink(c, deps);
      return owning(new LineScanner(link, { suffix: c.suffix, aimPrefix: c.aimPrefix, honeywellTrigger: c.honeywellTrigger, maxLength: c.maxLength, ...now }), link, c.path, log);
    }
    case 'gm65': {
      const link = serialLink(c, deps);
      return owning(new Gm65Scanner(link, { check: c.check, maxLength: c.maxLength, ...(c.mode ? { mode: c.mode } : {}), ...now }), link, c.path, log);
    }
    case 'evdev-wedge': {
      const link = new SupervisedLink(c.path, () => openEvdev(c.path), { backoff: c.reconnect });
      return owning(new EvdevWedgeScanner(link, { timevalBytes: c.timevalBytes, maxLength: c.maxLength, ...now }), link, c.path, log);
    }
    case 'hid-pos': {
      const link = hidLink(c, deps);
      return owning(new HidPosScanner(link, now), link, link.selector, log);
    }
  }
}

export function createThermometer(c: ThermometerConfig, deps: DeviceFactoryDeps, log: Logger): ThermometerDevice {
  if (c.type === 'sim') return new SimThermometer(deps.now);
  const link = serialLink(c, deps);
  const common = { offsetC: c.offsetC, replyTimeoutMs: c.replyTimeoutMs, ...(deps.now ? { now: deps.now } : {}) };
  switch (c.type) {
    case 'lu90614':
      return owning(new Lu90614(link, { ...common, mode: c.mode }), link, c.path, log);
    case 'mlx90614-66':
      return owning(new Mlx90614Board(link, { ...common, continuous: c.continuous }), link, c.path, log);
    case 'gd60914':
      return owning(new Gd60914(link, { ...common, mode: c.mode }), link, c.path, log);
  }
}

export function createRelay(c: RelayConfig, deps: DeviceFactoryDeps, log: Logger): RelayDevice {
  const now = deps.now ? { now: deps.now } : {};
  switch (c.type) {
    case 'sim':
      return new SimRelay(deps.now);
    case 'dcttech-hid': {
      const link = hidLink(c, deps);
      return owning(new DcttechRelay(link, { channel: c.channel, pollMs: c.pollMs, ...now }), link, link.selector, log);
    }
    case 'lcus': {
      const link = serialLink(c, deps);
      return owning(new LcusRelay(link, { channel: c.channel, feedback: c.feedback, pollMs: c.pollMs, ...now }), link, c.path, log);
    }
    case 'modbus': {
      const { channel: link, lease } = modbusLink(c, `relay @${c.address} channel ${c.channel}`, c.replyTimeoutMs, deps);
      return owning(
        new ModbusRelay(link, { address: c.address, channel: c.channel, profile: c.profile, replyTimeoutMs: c.replyTimeoutMs, baudRate: c.baudRate, pollMs: c.pollMs, ...now }),
        lease,
        c.path,
        log,
      );
    }
  }
}

/**
 * A lane's passage sensor: the sim one, or the real driver owning its supervised serial
 * link (device.start() starts the link, device.stop() stops it), like the other devices;
 * on a port it shares with a Modbus relay (deps.sharedPorts), a channel of that port's bus.
 */
export function buildPassageSensor(config: PassageSensorConfig, deps: DeviceFactoryDeps): PassageSensorDevice {
  if (config.type === 'sim') return new SimPassageSensor(deps.now);
  const { channel: link, lease } = modbusLink(config, `passage sensor @${config.address} input ${config.input}`, config.replyTimeoutMs, deps);
  const sensor = new ModbusPassageSensor(link, {
    address: config.address,
    input: config.input,
    activeLow: config.activeLow,
    pollMs: config.pollMs,
    minActiveMs: config.minActiveMs,
    stuckAfterMs: config.stuckAfterMs,
    replyTimeoutMs: config.replyTimeoutMs,
    baudRate: config.baudRate,
    ...(deps.now ? { now: deps.now } : {}),
  });
  return owning(sensor, lease, config.path, deps.logger.child({ device: 'passageSensor', type: config.type }));
}

/**
 * Make `device` own `link`: its start() starts the link once the device listens, its
 * stop() stops the link after the device had its say (a relay's final all-off).
 * Link and device events are logged, with repeated retries kept at debug level.
 */
function owning<D extends Startable & NodeJS.EventEmitter>(device: D, link: OwnedLink, where: unknown, log: Logger): D {
  const start = device.start.bind(device);
  const stop = device.stop.bind(device);
  link.on('open', () => log.info({ where }, 'device link open'));
  link.on('close', (err?: Error) => log.warn({ where, err: err?.message }, 'device link lost; reopening'));
  link.on('retry', (r: { attempt: number; delayMs: number; error: Error }) => {
    // The first failure says why; the rest of a long outage would only flood the log.
    if (r.attempt === 0) log.warn({ where, err: r.error.message }, 'device not available; retrying');
    else log.debug({ where, attempt: r.attempt, delayMs: r.delayMs }, 'device reopen retry');
  });
  device.on('discarded', (d: { count: number; reason: string }) => log.debug({ where, count: d.count, reason: d.reason }, 'bytes discarded'));
  device.on('fault', (err: Error) => log.warn({ where, err: err.message }, 'device fault'));
  device.on('driverError', (err: Error) => log.error({ where, err }, 'driver error'));
  return Object.assign(device, {
    start: async () => {
      await start();
      await link.start();
      // A relay is only usable after its all-off handshake; let start() cover it.
      if ('settled' in device && typeof device.settled === 'function') await (device.settled as () => Promise<void>)();
    },
    stop: async () => {
      await stop();
      await link.stop();
    },
  });
}
