// The office's MQTT connection: a persistent session (the broker keeps what arrives while
// we are away), shared subscriptions for the load-shared channels, a plain one for the
// retained status, and acknowledgement after commit.
//
// Why not mqtt.js `customHandleAcks`: read in mqtt 5.16 (build/lib/handlers/publish.js,
// client.js `work`), its callback gates the packet pump: no further PUBLISH is handled
// until it is called, so holding it until the commit gives batches of one. And it is
// honoured only for MQTT 5. Instead `handleMessage` (called for every QoS 1 publish on
// 3.1.1 and 5) hands the message on and answers the pump with an error, on which mqtt.js
// skips its automatic PUBACK and moves on; after the commit we write the PUBACK ourselves
// — only on the very connection that delivered the message (a packet id of an older
// connection could name a different message now; the broker redelivers those anyway).
import { readFileSync } from 'node:fs';
import { connect, type IClientOptions, type IPublishPacket, type MqttClient, type Packet } from 'mqtt';
import type { Logger } from 'pino';

export interface LinkState {
  connected: boolean;
  url: string;
  /** The MQTT version in use (auto: 5 until the broker refused it). */
  protocolVersion: 4 | 5;
  detail?: string;
  since: number;
}

export interface OfficeLinkOptions {
  url: string;
  /** auto: MQTT 5, falling back to 3.1.1 (for good) when the broker refuses 5 in its CONNACK. */
  protocolVersion: 4 | 5 | 'auto';
  clientId: string;
  prefix: string;
  sharedGroup?: string;
  sessionExpiryS: number;
  keepaliveS: number;
  username?: string;
  passwordFile?: string | null;
  tls?: { ca?: string; cert?: string; key?: string };
  logger: Logger;
  onMessage: (topic: string, payload: Buffer, ack: () => void) => void;
  onState?: (s: LinkState) => void;
  /** Reconnect period (mqtt.js retries for ever). */
  reconnectMs?: number;
}

/** Channels shared among the instances of one group; status is never shared (retained, every instance needs it). */
export const SHARED_CHANNELS = ['events', 'alerts', 'stats', 'screening', 'response/+'] as const;

export function subscriptionsFor(prefix: string, sharedGroup?: string): string[] {
  const share = sharedGroup ? `$share/${sharedGroup}/` : '';
  return [...SHARED_CHANNELS.map((c) => `${share}${prefix}/+/+/${c}`), `${prefix}/+/+/status`];
}

/** The deferral error handed back to mqtt.js's pump: "do not PUBACK this one now". */
const DEFERRED = Object.freeze(new Error('acknowledged after commit'));

type SendPacket = (packet: Packet, cb?: () => void, cbStorePut?: () => void, noStore?: boolean) => void;

export class OfficeLink {
  readonly #o: OfficeLinkOptions;
  #client: MqttClient | null = null;
  #state: LinkState;
  /** Exact status topics subscribed besides the wildcard (see watchStatus). */
  readonly #statusTopics = new Set<string>();
  #version: 4 | 5;
  #stopped = false;
  /** The last connection error logged at warn; cleared on connect. */
  #lastError: string | null = null;

  constructor(options: OfficeLinkOptions) {
    this.#o = options;
    this.#version = options.protocolVersion === 4 ? 4 : 5;
    this.#state = { connected: false, url: redactUrl(options.url), protocolVersion: this.#version, detail: 'connecting', since: Date.now() };
  }

  get state(): LinkState {
    return this.#state;
  }

  start(): void {
    this.#stopped = false;
    this.#open();
  }

  #open(): void {
    const o = this.#o;
    const v5 = this.#version === 5;
    const opts: IClientOptions = {
      clientId: o.clientId,
      protocolVersion: this.#version,
      clean: false,
      keepalive: o.keepaliveS,
      // No broker listening yet (the central may start before the gateway that embeds
      // one): mqtt.js keeps retrying every reconnectMs, for ever.
      reconnectPeriod: o.reconnectMs ?? 1000,
      connectTimeout: 10_000,
      resubscribe: false, // we subscribe on every CONNACK ourselves
      ...(v5 ? { properties: { sessionExpiryInterval: o.sessionExpiryS, receiveMaximum: 65_535 } } : {}),
    };
    if (o.username) opts.username = o.username;
    if (o.passwordFile) opts.password = readFileSync(o.passwordFile, 'utf8').split(/\r?\n/)[0] ?? '';
    if (o.tls?.ca) opts.ca = readFileSync(o.tls.ca);
    if (o.tls?.cert) opts.cert = readFileSync(o.tls.cert);
    if (o.tls?.key) opts.key = readFileSync(o.tls.key);
    // Shared subscriptions need MQTT 5: a 3.1.1 broker accepts `$share/...` as a literal
    // filter and delivers nothing to it, so on 3.1.1 every channel is subscribed plainly.
    const sharedGroup = v5 ? o.sharedGroup : undefined;
    // manualConnect: handleMessage must be in place before the broker replays the session.
    const client = connect(o.url, { ...opts, manualConnect: true });
    this.#client = client;
    client.handleMessage = (packet: IPublishPacket, callback: (err?: Error) => void) => {
      const ack = packet.qos === 0 || packet.messageId === undefined ? () => undefined : this.#acker(client, packet.messageId);
      try {
        o.onMessage(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload), ack);
      } catch (err) {
        o.logger.error({ err, topic: packet.topic }, 'message handler failed; not acknowledged');
      }
      if (packet.qos === 0) callback();
      else callback(DEFERRED);
    };
    client.on('connect', (connack) => {
      this.#lastError = null;
      this.#set({ connected: true });
      const filters = [...subscriptionsFor(o.prefix, sharedGroup), ...this.#statusTopics];
      o.logger.info({ sessionPresent: connack.sessionPresent, filters, protocolVersion: this.#version }, 'connected to the broker');
      client.subscribe(filters, { qos: 1 }, (err, granted) => {
        if (err) o.logger.error({ err }, 'subscribe failed');
        const refused = (granted ?? []).filter((g) => g.qos > 2);
        if (refused.length > 0) o.logger.error({ refused }, 'the broker refused subscriptions (shared subscriptions need MQTT 5)');
      });
    });
    // A client replaced by the fallback says nothing more about the link.
    client.on('close', () => this.#client === client && this.#state.connected && this.#set({ connected: false, detail: 'connection closed' }));
    client.on('offline', () => this.#client === client && this.#set({ connected: false, detail: 'offline' }));
    client.on('error', (err) => {
      if (this.#client !== client) return;
      if (o.protocolVersion === 'auto' && v5 && refusesV5(err)) {
        this.#fallBack(client, err);
        return;
      }
      // Retrying every second while no broker listens: warn once per distinct error, not every second.
      if (err.message !== this.#lastError) o.logger.warn({ err: err.message }, 'broker connection error; retrying');
      else o.logger.debug({ err: err.message }, 'broker connection error; retrying');
      this.#lastError = err.message;
      this.#set({ connected: false, detail: err.message });
    });
    client.connect();
  }

  /**
   * Also subscribe these exact status topics, now and on every connect: RabbitMQ 3.10
   * hands a retained message only to an exact-topic subscription, never to the wildcard
   * `{prefix}/+/+/status`, so without this an office gets no status of a gateway that came
   * online before it subscribed (docs/scaling.md).
   */
  watchStatus(topics: Iterable<string>): void {
    const fresh = [...topics].filter((t) => !this.#statusTopics.has(t));
    if (fresh.length === 0) return;
    for (const t of fresh) this.#statusTopics.add(t);
    const client = this.#client;
    if (!client?.connected) return; // subscribed with the rest on the next CONNACK
    client.subscribe(fresh, { qos: 1 }, (err) => {
      if (err) this.#o.logger.warn({ err, topics: fresh.length }, 'status subscribe failed (retried on the next connect)');
    });
  }

  /** auto, and the broker refused MQTT 5: reconnect with 3.1.1 from now on. */
  #fallBack(client: MqttClient, err: Error): void {
    const o = this.#o;
    this.#version = 4;
    this.#client = null;
    client.end(true);
    o.logger.info({ err: err.message }, 'mqtt: the broker refused MQTT 5; using MQTT 3.1.1 (protocolVersion auto)');
    if (o.sharedGroup) {
      o.logger.warn({ sharedGroup: o.sharedGroup }, 'mqtt: shared subscriptions need MQTT 5: subscribing plainly, so run one instance only on this broker');
    }
    this.#set({ connected: false, detail: 'falling back to MQTT 3.1.1' });
    if (!this.#stopped) this.#open();
  }

  #acker(client: MqttClient, messageId: number): () => void {
    const stream = client.stream;
    return () => {
      if (client.stream !== stream || !client.connected) return; // a new connection: the broker redelivers
      const puback = this.#version === 5 ? { cmd: 'puback', messageId, reasonCode: 0 } : { cmd: 'puback', messageId };
      // mqtt.js has no public PUBACK call; _sendPacket with noStore writes it at once.
      (client as unknown as { _sendPacket: SendPacket })._sendPacket(puback as Packet, undefined, undefined, true);
    };
  }

  async publish(topic: string, payload: string, opts: { qos: 0 | 1; retain?: boolean } = { qos: 1 }): Promise<void> {
    const client = this.#client;
    if (!client?.connected) throw new Error('not connected to the broker');
    await client.publishAsync(topic, payload, { qos: opts.qos, retain: opts.retain ?? false });
  }

  #set(s: Partial<LinkState>): void {
    this.#state = { ...this.#state, ...s, protocolVersion: this.#version, since: Date.now() };
    if (s.connected) delete this.#state.detail;
    this.#o.onState?.(this.#state);
  }

  /** Disconnects without acknowledging what is not committed (the session keeps it). */
  async stop(): Promise<void> {
    this.#stopped = true;
    const c = this.#client;
    this.#client = null;
    if (c) await c.endAsync(false).catch(() => c.end(true));
  }
}

/**
 * A CONNACK refusing the protocol version: 3.1.1 return code 1 (aedes, NATS answer an
 * MQTT 5 CONNECT so) or MQTT 5 reason 0x84 "Unsupported Protocol Version". A broker that
 * does not answer at all (RabbitMQ 3.10) is not recognised: configure 4 for it.
 */
export function refusesV5(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 1 || code === 0x84;
}

/** The URL without user and password, for logs and /healthz. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(unparsable url)';
  }
}
