// The MQTT link to the central office: drains the durable outbox in order, announces
// online/offline on the status topic, and survives any number of broker outages.
//
// Each connection attempt gets a fresh mqtt client (reconnectPeriod 0, our own backoff
// with jitter). Nothing of a dead connection survives into the next one: rows that were
// in flight without a PUBACK are simply still undelivered in the outbox and are sent
// again, in order, from the first undelivered row. The receiver drops duplicates by
// event id. mqtt.js's own reconnect keeps a fixed period and replays its in-memory
// store; the outbox already is that store, durable, so we do not want a second one.
import { connect, type IConnackPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { LinkStatus } from '../bus.js';
import type { OutboxRow, OutboxSource } from '../store/types.js';
import type { CheckpointTopics } from './topics.js';

export const STATUS_ONLINE = 'online';
export const STATUS_OFFLINE = 'offline';

export interface MqttLinkOptions {
  /** mqtt:// or mqtts:// URL; credentials in it are used but never reported. */
  url: string;
  topics: CheckpointTopics;
  clientId: string;
  /** 4 = MQTT 3.1.1 (needed for the embedded aedes broker), 5 = MQTT 5. */
  protocolVersion: 4 | 5;
  outbox: OutboxSource;
  logger: Logger;
  now: () => number;
  /** Called on every state change; exceptions are logged and swallowed. */
  onStatus: (status: LinkStatus) => void;
  /** Reported in LinkStatus: the broker is the gateway's own. Default false. */
  embedded?: boolean;
  /** Most QoS 1 rows awaiting PUBACK at once. Default 32 (less if the broker says so). */
  maxInFlight?: number;
  /** First reconnect delay; doubles per failed attempt up to reconnectMaxMs. Default 1000. */
  reconnectMinMs?: number;
  /** Default 30000. */
  reconnectMaxMs?: number;
  /** Safety net for a missed notify(): re-check the outbox this often. 0 = off. Default 5000. */
  pollMs?: number;
  /** Default 30. */
  keepaliveS?: number;
  /** How long a connection attempt may take up to CONNACK. Default 10000. */
  connectTimeoutMs?: number;
  /** How long stop() waits for PUBACKs and the goodbye before closing hard. Default 3000. */
  stopTimeoutMs?: number;
}

/** One network connection and the drain state that belongs to it alone. */
interface Session {
  readonly client: MqttClient;
  /** False once the connection is gone: its callbacks no longer drive the drain. */
  live: boolean;
  connected: boolean;
  window: number;
  inFlight: number;
  /** Id of the last row handed to publish on this connection. */
  cursor: number | undefined;
}

/** A connection that lasts this long resets the backoff. */
const STABLE_MS = 10_000;

export class MqttLink {
  readonly #o: MqttLinkOptions;
  #status: LinkStatus;
  #session: Session | null = null;
  #started = false;
  #stopping = false;
  #stopped: Promise<void> | null = null;
  #pumping = false;
  #attempts = 0;
  #lastError: string | undefined;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #stableTimer: NodeJS.Timeout | null = null;
  #pollTimer: NodeJS.Timeout | null = null;

  constructor(options: MqttLinkOptions) {
    this.#o = options;
    this.#status = { state: 'disconnected', url: redactUrl(options.url), embedded: options.embedded ?? false, since: options.now() };
  }

  /** Starts connecting; never waits for the broker (offline first). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#setStatus('connecting');
    const pollMs = this.#o.pollMs ?? 5000;
    if (pollMs > 0) this.#pollTimer = setInterval(() => this.#pump(), pollMs);
    this.#open();
  }

  /** Says `offline` when connected, lets in-flight rows finish, then disconnects. */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  /** A row was written to the outbox: send it now if the link is up. */
  notify(): void {
    this.#pump();
  }

  status(): LinkStatus {
    return { ...this.#status };
  }

  /** Rows not yet acknowledged by the broker (for /healthz and /metrics). */
  outboxDepth(): number {
    return this.#o.outbox.outboxDepth();
  }

  async #stop(): Promise<void> {
    this.#stopping = true;
    this.#clearTimers();
    const s = this.#session;
    if (s?.live && s.connected) {
      const timeout = this.#o.stopTimeoutMs ?? 3000;
      // Our own goodbye: a clean DISCONNECT suppresses the last will, so without this
      // the status would stay `online`.
      await withTimeout(
        new Promise<void>((resolve) => {
          s.client.publish(this.#o.topics.status, STATUS_OFFLINE, { qos: 1, retain: true }, (err) => {
            if (err) this.#o.logger.warn({ err }, 'mqtt: could not publish offline status');
            resolve();
          });
        }),
        timeout,
      );
      // end(false) waits for rows still awaiting PUBACK, so fewer are sent twice.
      await withTimeout(
        s.client.endAsync(false).catch((err: unknown) => {
          this.#o.logger.warn({ err }, 'mqtt: unclean disconnect');
        }),
        timeout,
      );
    }
    if (s) {
      s.live = false;
      s.connected = false;
      s.client.end(true);
    }
    this.#session = null;
    if (this.#started) this.#setStatus('disconnected', 'stopped');
    this.#o.logger.info({ url: this.#status.url }, 'mqtt: link stopped');
  }

  #open(): void {
    const { topics, logger } = this.#o;
    const client = connect(this.#o.url, {
      clientId: this.#o.clientId,
      protocolVersion: this.#o.protocolVersion,
      clean: true,
      // Reconnection is ours (backoff, fresh client); see the file comment.
      reconnectPeriod: 0,
      connectTimeout: this.#o.connectTimeoutMs ?? 10_000,
      keepalive: this.#o.keepaliveS ?? 30,
      queueQoSZero: false,
      resubscribe: false,
      will: { topic: topics.status, payload: Buffer.from(STATUS_OFFLINE), qos: 1, retain: true },
    });
    const s: Session = { client, live: true, connected: false, window: 1, inFlight: 0, cursor: undefined };
    this.#session = s;

    client.on('connect', (connack: IConnackPacket) => {
      if (!s.live || this.#stopping) return;
      s.connected = true;
      s.window = this.#window(connack);
      this.#lastError = undefined;
      this.#stableTimer = setTimeout(() => {
        this.#attempts = 0;
      }, STABLE_MS);
      client.publish(topics.status, STATUS_ONLINE, { qos: 1, retain: true }, (err) => {
        if (err && s.live) logger.warn({ err }, 'mqtt: could not publish online status');
      });
      logger.info(
        { url: this.#status.url, protocolVersion: this.#o.protocolVersion, depth: this.#safeDepth() },
        'mqtt: connected; draining outbox',
      );
      this.#setStatus('connected');
      this.#pump();
    });
    client.on('error', (err) => {
      // Every failure also ends in 'close', which does the recovery; this only records why.
      if (!s.live) return;
      this.#lastError = err.message;
      logger.debug({ err }, 'mqtt: client error');
    });
    client.on('close', () => this.#drop(s, this.#lastError ?? 'connection closed'));
  }

  /** The connection is gone (or must go): forget it and schedule the next attempt. */
  #drop(s: Session, reason: string): void {
    if (!s.live) return;
    const wasConnected = s.connected;
    s.live = false;
    s.connected = false;
    if (this.#session === s) this.#session = null;
    if (this.#stableTimer) clearTimeout(this.#stableTimer);
    this.#stableTimer = null;
    s.client.end(true);
    if (this.#stopping) return;
    this.#setStatus('disconnected', reason);
    this.#attempts += 1;
    const base = Math.min(this.#o.reconnectMaxMs ?? 30_000, (this.#o.reconnectMinMs ?? 1000) * 2 ** Math.min(this.#attempts - 1, 20));
    // Jitter keeps the checkpoints of a site from all reconnecting in the same instant.
    const delay = Math.round(base / 2 + (Math.random() * base) / 2);
    const log = wasConnected || this.#attempts === 1 ? 'warn' : 'debug';
    this.#o.logger[log]({ url: this.#status.url, reason, attempt: this.#attempts, delayMs: delay }, 'mqtt: link down; reconnecting');
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      if (!this.#stopping) this.#open();
    }, delay);
  }

  /** Fill the in-flight window with the next rows, oldest first. */
  #pump(): void {
    const s = this.#session;
    if (!s?.live || !s.connected || this.#stopping || this.#pumping) return;
    this.#pumping = true;
    try {
      while (s.live && s.inFlight < s.window) {
        const rows = this.#o.outbox.outboxPending(s.window - s.inFlight, s.cursor);
        if (rows.length === 0) break;
        for (const row of rows) this.#publishRow(s, row);
      }
    } catch (err) {
      // The store is the store's problem; the rows stay pending for the next wake-up.
      this.#o.logger.error({ err }, 'mqtt: reading the outbox failed');
    } finally {
      this.#pumping = false;
    }
  }

  #publishRow(s: Session, row: OutboxRow): void {
    s.cursor = row.id;
    s.inFlight += 1;
    s.client.publish(row.topic, row.payload, { qos: row.qos }, (err) => {
      if (s.live) s.inFlight -= 1;
      if (err) {
        // Callbacks of a dropped connection fail with "Connection closed": expected,
        // the row is still pending and the next connection sends it again.
        if (!s.live) return;
        // A broker refusing one message (MQTT 5 reason code) must not make us skip it:
        // start over from the first undelivered row on a new connection, with backoff.
        this.#o.logger.warn({ err, outboxId: row.id, topic: row.topic }, 'mqtt: publish refused; reconnecting');
        this.#drop(s, `publish refused: ${err.message}`);
        return;
      }
      try {
        this.#o.outbox.markDelivered(row.id);
      } catch (markErr) {
        // Not marked means sent again later: a duplicate, never a loss.
        this.#o.logger.error({ err: markErr, outboxId: row.id }, 'mqtt: could not mark row delivered');
      }
      this.#pump();
    });
  }

  /** Our window, never above the broker's Receive Maximum (one slot kept for status). */
  #window(connack: IConnackPacket): number {
    const wanted = Math.max(1, this.#o.maxInFlight ?? 32);
    const brokerMax = connack.properties?.receiveMaximum;
    return brokerMax === undefined ? wanted : Math.max(1, Math.min(wanted, brokerMax - 1));
  }

  #setStatus(state: LinkStatus['state'], detail?: string): void {
    const same = this.#status.state === state;
    if (same && this.#status.detail === detail) return;
    // `since` is when the state began; a new detail (why we are still down) keeps it.
    const since = same ? this.#status.since : this.#o.now();
    const next: LinkStatus = { state, url: this.#status.url, embedded: this.#status.embedded, since };
    if (detail !== undefined) next.detail = detail;
    this.#status = next;
    try {
      this.#o.onStatus({ ...next });
    } catch (err) {
      this.#o.logger.error({ err }, 'mqtt: status handler threw');
    }
  }

  #safeDepth(): number | null {
    try {
      return this.#o.outbox.outboxDepth();
    } catch {
      return null;
    }
  }

  #clearTimers(): void {
    for (const t of [this.#reconnectTimer, this.#stableTimer]) if (t) clearTimeout(t);
    if (this.#pollTimer) clearInterval(this.#pollTimer);
    this.#reconnectTimer = null;
    this.#stableTimer = null;
    this.#pollTimer = null;
  }
}

/** The URL without user and password, for logs and /healthz. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
    }
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(unparsable url)';
  }
}

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    p.then(done, done);
  });
}
