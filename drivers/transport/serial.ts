// A ByteLink over a serial port (serialport 13), opened by a stable path such as
// /dev/serial/by-id/... or a socat pty link. A Supervisor reopens the port whenever it
// vanishes; each reopen builds a new SerialPort object, so nothing stale survives.
// serialport is CommonJS; its named exports load fine from ESM through Node's CJS lexer.
// It is loaded on the first open, so a gateway of simulated devices (the demo) starts
// without it.
import type { ByteLink } from '../types.js';
import { DriverError } from './framing.js';
import { SupervisedLinkBase, type SupervisorOptions } from './supervisor.js';

export type Parity = 'none' | 'even' | 'odd';

export interface SerialSettings {
  /** Stable device path: /dev/serial/by-id/..., a udev symlink, or a pty link. */
  path: string;
  baudRate: number;
  dataBits?: 5 | 6 | 7 | 8;
  parity?: Parity;
  stopBits?: 1 | 2;
}

/** The part of a SerialPort the link uses; tests put SerialPortMock or a fake here. */
export interface PortLike extends NodeJS.EventEmitter {
  readonly isOpen: boolean;
  open(cb: (err: Error | null) => void): void;
  close(cb?: (err: Error | null) => void): void;
  write(data: Buffer, cb?: (err: Error | null | undefined) => void): boolean;
  drain(cb: (err: Error | null) => void): void;
}

export type PortFactory = (settings: Required<SerialSettings>) => PortLike | Promise<PortLike>;

let serialport: Promise<typeof import('serialport')> | undefined;

export const realPortFactory: PortFactory = async (s) => {
  const { SerialPort } = await (serialport ??= import('serialport'));
  return new SerialPort({
    path: s.path,
    baudRate: s.baudRate,
    dataBits: s.dataBits,
    parity: s.parity,
    stopBits: s.stopBits,
    autoOpen: false,
    // Do not drop DTR on close: many adapters reset the device, and ptys refuse the ioctl.
    hupcl: false,
  }) as unknown as PortLike;
};

export interface SerialLinkOptions extends SupervisorOptions {
  createPort?: PortFactory;
}

/**
 * Emits 'open', 'close' (Error: why it was lost), 'data' (Buffer) per ByteLink, plus
 * 'retry' ({ attempt, delayMs, error }) from the supervisor for logging.
 */
export class SerialLink extends SupervisedLinkBase<PortLike> implements ByteLink {
  readonly settings: Required<SerialSettings>;
  readonly #createPort: PortFactory;

  constructor(settings: SerialSettings, options: SerialLinkOptions = {}) {
    super(settings.path, options);
    this.settings = { dataBits: 8, parity: 'none', stopBits: 1, ...settings };
    this.#createPort = options.createPort ?? realPortFactory;
  }

  protected override async openHandle(lost: (err: Error) => void, data: (d: Buffer) => void): Promise<PortLike> {
    return openPort(await this.#createPort(this.settings), this.settings.path, lost, data);
  }

  protected override closeHandle(port: PortLike): Promise<void> {
    return closePort(port);
  }

  // A dying port can say it is closed before its 'close' event reaches the supervisor.
  protected override handleIsOpen(port: PortLike): boolean {
    return port.isOpen;
  }

  write(data: Buffer): Promise<void> {
    const port = this.handle;
    if (!port || !port.isOpen) return Promise.reject(this.notOpen());
    return new Promise((resolve, reject) => {
      port.write(data, (err) => {
        if (err) {
          const e = new DriverError('WRITE_FAILED', err.message, this.settings.path);
          this.reportLost(e);
          reject(e);
          return;
        }
        // Resolve once the bytes left Node, so a caller's reply timeout starts at the wire.
        port.drain((derr) => (derr ? reject(new DriverError('WRITE_FAILED', derr.message, this.settings.path)) : resolve()));
      });
    });
  }
}

function openPort(port: PortLike, where: string, lost: (err: Error) => void, onData: (d: Buffer) => void): Promise<PortLike> {
  return new Promise((resolve, reject) => {
    port.open((err) => {
      if (err) {
        port.removeAllListeners();
        reject(new DriverError('OPEN_FAILED', err.message, where));
        return;
      }
      port.on('data', onData);
      // serialport emits 'close' with a DisconnectedError when the device vanished, and
      // 'error' for read failures; either way this port object is finished.
      port.on('close', (cerr?: Error | null) => lost(new DriverError('LINK_CLOSED', `lost: ${cerr?.message ?? 'port closed'}`, where)));
      port.on('error', (eerr: Error) => lost(new DriverError('LINK_CLOSED', `lost: ${eerr.message}`, where)));
      resolve(port);
    });
  });
}

function closePort(port: PortLike): Promise<void> {
  port.removeAllListeners('data');
  port.removeAllListeners('close');
  // Keep an error listener: a late EIO from a dying port must not crash the process.
  port.removeAllListeners('error');
  port.on('error', () => undefined);
  return new Promise((resolve) => {
    if (!port.isOpen) {
      resolve();
      return;
    }
    port.close(() => resolve());
  });
}
