// An in-process MQTT broker (aedes) for the demo and for checkpoints without a local
// broker. aedes speaks MQTT 3.1.1 only: clients of it must not ask for MQTT 5.
import net from 'node:net';
import { TelemetryError } from './errors.js';

export interface EmbeddedBroker {
  readonly host: string;
  /** The port actually bound (useful when 0 was asked for). */
  readonly port: number;
  /** Disconnects every client and stops listening. Idempotent. */
  close(): Promise<void>;
}

export async function startEmbeddedBroker(opts: { host: string; port: number }): Promise<EmbeddedBroker> {
  // Loaded only when needed: most checkpoints have a broker, and aedes costs start-up time.
  const { Aedes } = await import('aedes');
  const aedes = await Aedes.createBroker();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  // A client's broken socket is its problem, not the process's.
  aedes.on('connectionError', () => undefined);
  aedes.on('clientError', () => undefined);

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    throw new TelemetryError(
      'TELEMETRY_BROKER_START_FAILED',
      `embedded broker: could not listen on ${opts.host}:${opts.port}: ${(err as Error).message}`,
      err,
    );
  }
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : opts.port;

  let closing: Promise<void> | null = null;
  return {
    host: opts.host,
    port,
    close(): Promise<void> {
      closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        // aedes closes its clients; a socket still half-open would keep server.close waiting.
        for (const s of sockets) s.destroy();
        await serverClosed;
      })();
      return closing;
    },
  };
}

/** True when something accepts TCP connections on host:port within timeoutMs. */
export function isListening(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let settled = false;
    const done = (result: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
