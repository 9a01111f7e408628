// Wiring for main.ts: pick the broker (the configured one, or our own embedded one on a
// loopback URL where nothing listens), then start the link. The demo thus works on a
// bare machine, and a real Mosquitto on the same port takes precedence when present.
import { TelemetryError, isTelemetryError } from './errors.js';
import { type EmbeddedBroker, isListening, startEmbeddedBroker } from './embedded-broker.js';
import { MqttLink, type MqttLinkOptions, redactUrl } from './link.js';

export interface ConnectTelemetryOptions extends Omit<MqttLinkOptions, 'protocolVersion' | 'embedded'> {
  /** Start an embedded broker when the URL is loopback and nothing listens. Default true. */
  embeddedFallback?: boolean;
  /** How long the "is a broker there?" TCP probe may take. Default 1000. */
  probeTimeoutMs?: number;
  /** MQTT 5 (default) or 3.1.1 for a configured broker; the embedded one always gets 4. */
  protocolVersion?: 4 | 5;
  /** Start the link at once (default); false leaves `link.start()` to the caller. */
  startLink?: boolean;
}

export interface Telemetry {
  /** Already started, unless `startLink: false`. */
  link: MqttLink;
  /** The embedded broker when one was started, else null. */
  broker: EmbeddedBroker | null;
  /** Stops the link first (so it can still say `offline`), then the embedded broker. */
  stop(): Promise<void>;
}

const SCHEMES = new Set(['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:']);
const PLAIN_TCP = new Set(['mqtt:', 'tcp:']);

export async function connectTelemetry(opts: ConnectTelemetryOptions): Promise<Telemetry> {
  const { embeddedFallback = true, probeTimeoutMs = 1000, protocolVersion = 5, startLink = true, ...linkOpts } = opts;
  const url = parseUrl(opts.url);
  const shown = redactUrl(opts.url);
  const loopback = loopbackHosts(url.hostname);
  const port = Number(url.port || (url.protocol === 'mqtts:' || url.protocol === 'ssl:' ? 8883 : 1883));

  let broker: EmbeddedBroker | null = null;
  let linkUrl = opts.url;
  if (embeddedFallback && loopback && PLAIN_TCP.has(url.protocol)) {
    const probes = await Promise.all(loopback.probe.map((h) => isListening(h, port, probeTimeoutMs)));
    if (!probes.some(Boolean)) {
      try {
        broker = await startEmbeddedBroker({ host: loopback.bind, port });
        // `localhost` may resolve to ::1 first while we bound 127.0.0.1: dial what we bound.
        url.hostname = loopback.bind.includes(':') ? `[${loopback.bind}]` : loopback.bind;
        linkUrl = url.toString();
      } catch (err) {
        // Someone took the port between probe and listen; most likely a broker: use it.
        if (!isTelemetryError(err, 'TELEMETRY_BROKER_START_FAILED')) throw err;
        opts.logger.warn({ err, url: shown }, 'mqtt: embedded broker could not start; using the broker on that port');
      }
    }
  }

  if (broker) {
    opts.logger.info(
      { url: shown, host: broker.host, port: broker.port, protocolVersion: 4 },
      'mqtt: no broker on loopback; started the embedded broker (MQTT 3.1.1)',
    );
  } else {
    opts.logger.info({ url: shown, protocolVersion }, `mqtt: using the configured broker (MQTT ${protocolVersion === 5 ? '5' : '3.1.1'})`);
  }
  const link = new MqttLink({ ...linkOpts, url: linkUrl, protocolVersion: broker ? 4 : protocolVersion, embedded: broker !== null });
  if (startLink) link.start();
  return {
    link,
    broker,
    async stop(): Promise<void> {
      await link.stop();
      await broker?.close();
    },
  };
}

function parseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (err) {
    throw new TelemetryError('TELEMETRY_URL_INVALID', `mqtt url "${redactUrl(raw)}": expected e.g. mqtt://host:1883`, err);
  }
  if (!SCHEMES.has(url.protocol)) {
    throw new TelemetryError('TELEMETRY_URL_INVALID', `mqtt url "${redactUrl(raw)}": expected scheme mqtt, mqtts, tcp, ssl, ws or wss`);
  }
  return url;
}

/** For a loopback host: where to probe for an existing broker and where to bind ours. */
function loopbackHosts(hostname: string): { probe: string[]; bind: string } | null {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return { probe: ['127.0.0.1', '::1'], bind: '127.0.0.1' };
  if (h === '::1') return { probe: ['::1'], bind: '::1' };
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return { probe: [h], bind: h };
  return null;
}
