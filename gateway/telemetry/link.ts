// The MQTT link to the central office: drains the durable outbox in order, announces
// online/offline on the status topic, and survives any number of broker outages.
//
// Each connection attempt gets a fresh mqtt client (reconnectPeriod 0, our own backoff
// with jitter). Nothing of a dead connection survives into the next one: rows that were
// in flight without a PUBACK are simply still undelivered in the outbox and are sent
// again, in order, from the first undelivered row. The receiver drops duplicates by
// event id. mqtt.js's own reconnect keeps a fixed period and replays its in-memory
// store; the outbox already is that store, durable, so we do not want a second one.
//
// Inbound commands are the other way round: the broker is their durable queue. The
// session is persistent (stable client id, clean start off, a session expiry), and a
// command is acknowledged only after the handler has stored or rejected it, so a crash
// in between makes the broker deliver it again. Persistence changes nothing for our
// publishing: the broker keeps no state for QoS 1 messages it received from us, and
// the fresh client re-sends from the outbox with new packet ids as before.
import type { IClientOptions, IConnackPacket, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { LinkStatus } from '../bus.js';
import type { OutboxRow, OutboxSource } from '../store/types.js';
import type { CheckpointTopics } from './topics.js';

type Connect = (typeof import('mqtt'))['connect'];

/**
 * mqtt.js, loaded at the first start() rather than with this module: its module
 * initialisation (with readable-stream and the rest) is not needed before the gateway's
 * ready line, and was ~9 ms of the main thread's time to it (docs/footprint.md).
 */
let mqttConnect: Connect | null = null;
function loadMqtt(): Promise<Connect> {
  return import('mqtt').then((m) => (mqttConnect = m.connect));
}

export const STATUS_ONLINE = 'online';
export const STATUS_OFFLINE = 'offline';

/**
 * Retained payload on …/status (version 1). `online` carries the birth facts; the last
 * will and stop() say `offline` with the same session number, so the office can tell a
 * stale will of an old connection from the death of the current one (Sparkplug's bdSeq).
 */
export interface StatusMessageV1 {
  v: 1;
  state: typeof STATUS_ONLINE | typeof STATUS_OFFLINE;
  /** Rises on every connection attempt, across restarts (kept in SQLite). */
  session: number;
  /** ISO time of the change; absent in the last will (written before it happens). */
  at?: string;
  /** offline only: `stopped` (clean shutdown) or `lost` (the will: crash, power, network). */
  cause?: 'stopped' | 'lost';
  [birth: string]: unknown;
}

/** Supplies the session counter and the birth facts (version, config hash, lanes, devices). */
export interface StatusSource {
  /** The next session number; called once per connection attempt. */
  nextSession(): number;
  /** Facts merged into the `online` message. */
  birth(): Record<string, unknown>;
}

/** An inbound message on a …/cmd/<kind> topic. */
export interface InboundCommand {
  topic: string;
  /** The level after `cmd/`; multi-level rests (cmd/a/b) are passed as `a/b`. */
  kind: string;
  /** True when addressed to every checkpoint of the site (…/all/cmd/…). */
  siteWide: boolean;
  /** A retained copy the broker hands every new subscription (e.g. after each reconnect). */
  retained: boolean;
  /** The broker delivers it again (DUP): a connection ended before we acknowledged it. */
  dup?: boolean;
  payload: Buffer;
}

/** TLS and login for the broker connection. */
export interface MqttCredentials {
  username?: string;
  password?: string;
  /** PEM contents (not paths): CA bundle, client certificate and key. */
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
}

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
  /** Session counter and birth facts; default: an in-memory counter and no birth facts. */
  statusSource?: StatusSource;
  /**
   * Inbound commands; when set, the link subscribes to topics.cmdFilters on every connect.
   * The command is acknowledged to the broker (PUBACK) when the returned promise settles:
   * resolve it once the command is stored or rejected. A rejected promise drops the
   * connection unacknowledged, so the broker delivers the command again later.
   */
  onCommand?: (cmd: InboundCommand) => void | Promise<unknown>;
  /**
   * MQTT 5 session expiry in seconds: how long the broker keeps our command subscription
   * and queues commands while we are away. Default 7 days. (3.1.1: the broker's setting.)
   */
  sessionExpiryS?: number;
  credentials?: MqttCredentials;
}

/** One network connection and the drain state that belongs to it alone. */
interface Session {
  readonly client: MqttClient;
  /** False once the connection is gone: its callbacks no longer drive the drain. */
  live: boolean;
  connected: boolean;
  window: number;
  inFlight: number;
  /** Id of the last row read from the outbox on this connection. */
  cursor: number | undefined;
  /** Rows read ahead, not yet published: one query per READ_AHEAD rows, not per row. */
  ahead: OutboxRow[];
  aheadIdx: number;
  /** The last read filled its limit: more rows are likely waiting (worth reading ahead). */
  more: boolean;
  session: number;
  /** Rows created before this (outbox clock) waited out an outage: `historical`. */
  connectedAt: number;
}

/** The flag's two endings, made once instead of once per row. */
const HISTORICAL_TRUE = ',"historical":true}';
const HISTORICAL_FALSE = ',"historical":false}';

/** Publish options by QoS, shared by every row (mqtt.js copies them, never changes them). */
const PUBLISH_OPTIONS = [{ qos: 0 }, { qos: 1 }] as const;

/**
 * Rows read from SQLite per query while draining. Small, so that reading the next rows
 * (after a window has gone out, see #afterSend) takes about as long as the broker takes
 * to acknowledge it, instead of holding the window empty.
 */
const READ_AHEAD = 256;
/** PUBACKed rows are marked in one commit at most this long after their PUBACK... */
const MARK_DELAY_MS = 100;
/** ...or, while a backlog drains, once this many are waiting (after a window has gone out)... */
const MARK_CHUNK = 2048;
/** ...and at the latest when this many are. */
const MARK_BATCH = 8192;

/** A connection that lasts this long resets the backoff. */
const STABLE_MS = 10_000;

/** Default MQTT 5 session expiry: a checkpoint offline for a week still gets its updates. */
export const DEFAULT_SESSION_EXPIRY_S = 7 * 24 * 3600;

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
  #sessionCounter = 0;
  /** PUBACKed ids not yet marked in SQLite: marked in one commit per batch. */
  #acked: number[] = [];
  #flushTimer: NodeJS.Timeout | null = null;
  #pumpScheduled = false;
  #afterSendScheduled = false;
  /** Topics whose JSON payloads get the `historical` flag at publish time. */
  readonly #events: string;
  readonly #alerts: string;

  constructor(options: MqttLinkOptions) {
    this.#o = options;
    this.#events = options.topics.events;
    this.#alerts = options.topics.alerts;
    this.#status = { state: 'disconnected', url: redactUrl(options.url), embedded: options.embedded ?? false, since: options.now() };
  }

  /** Starts connecting; never waits for the broker (offline first). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#setStatus('connecting');
    const pollMs = this.#o.pollMs ?? 5000;
    if (pollMs > 0) this.#pollTimer = setInterval(() => this.#pump(), pollMs);
    if (mqttConnect !== null) this.#open();
    else
      loadMqtt().then(
        () => {
          if (!this.#stopping) this.#open();
        },
        (err: unknown) => this.#o.logger.error({ err }, 'mqtt: the mqtt package could not be loaded; no link'),
      );
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

  /**
   * Publishes now if connected (no outbox): for messages that are worthless later, such
   * as stats. Returns false when there is no connection.
   */
  publishNow(topic: string, payload: string, opts: { qos: 0 | 1; retain?: boolean }): boolean {
    const s = this.#session;
    if (!s?.live || !s.connected || this.#stopping) return false;
    s.client.publish(topic, payload, { qos: opts.qos, retain: opts.retain ?? false }, (err) => {
      if (err && s.live) this.#o.logger.debug({ err, topic }, 'mqtt: direct publish failed');
    });
    return true;
  }

  /** Publishes the `online` status again with fresh birth facts (a device came or went). */
  republishStatus(): void {
    const s = this.#session;
    if (s?.live && s.connected && !this.#stopping) this.#publishOnline(s);
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
      const goodbye = this.#statusPayload(s.session, STATUS_OFFLINE, 'stopped');
      await withTimeout(
        new Promise<void>((resolve) => {
          s.client.publish(this.#o.topics.status, goodbye, { qos: 1, retain: true }, (err) => {
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
    this.#flushAcked();
    this.#session = null;
    if (this.#started) this.#setStatus('disconnected', 'stopped');
    this.#o.logger.info({ url: this.#status.url }, 'mqtt: link stopped');
  }

  #open(): void {
    const { topics, logger } = this.#o;
    const session = this.#nextSession();
    const creds = this.#o.credentials ?? {};
    const extra: Partial<IClientOptions> = {};
    if (creds.username !== undefined) extra.username = creds.username;
    if (creds.password !== undefined) extra.password = creds.password;
    if (creds.ca !== undefined) extra.ca = creds.ca;
    if (creds.cert !== undefined) extra.cert = creds.cert;
    if (creds.key !== undefined) extra.key = creds.key;
    // A persistent session for the commands (see the file comment): clean start off, and
    // for MQTT 5 an explicit expiry (0, the MQTT 5 default, would end it at disconnect).
    if (this.#o.protocolVersion === 5) {
      extra.properties = { sessionExpiryInterval: this.#o.sessionExpiryS ?? DEFAULT_SESSION_EXPIRY_S };
    }
    // Loaded by start() before the first #open.
    const client = (mqttConnect as Connect)(this.#o.url, {
      ...extra,
      clientId: this.#o.clientId,
      protocolVersion: this.#o.protocolVersion,
      clean: false,
      // Reconnection is ours (backoff, fresh client); see the file comment.
      reconnectPeriod: 0,
      connectTimeout: this.#o.connectTimeoutMs ?? 10_000,
      keepalive: this.#o.keepaliveS ?? 30,
      queueQoSZero: false,
      resubscribe: false,
      // No table of 65 536 pre-made 2-byte buffers for packet ids (mqtt-packet): 6 MB of
      // heap and ~20 ms at the first packet, for a link that sends a few rows a second.
      writeCache: false,
      will: {
        topic: topics.status,
        payload: Buffer.from(this.#statusPayload(session, STATUS_OFFLINE, 'lost')),
        qos: 1,
        retain: true,
      },
    });
    const s: Session = {
      client,
      live: true,
      connected: false,
      window: 1,
      inFlight: 0,
      cursor: undefined,
      ahead: [],
      aheadIdx: 0,
      more: false,
      session,
      connectedAt: 0,
    };
    this.#session = s;

    client.on('connect', (connack: IConnackPacket) => {
      if (!s.live || this.#stopping) return;
      s.connected = true;
      s.connectedAt = this.#o.now();
      s.window = this.#window(connack);
      this.#lastError = undefined;
      this.#stableTimer = setTimeout(() => {
        this.#attempts = 0;
      }, STABLE_MS);
      this.#publishOnline(s);
      // Subscribe on every connect: the session may have expired (or the broker lost it).
      // MQTT 5 `rh: 1`: retained commands only for a new subscription, so a resumed
      // session does not get every retained update again on each reconnect.
      if (this.#o.onCommand) {
        const opts = this.#o.protocolVersion === 5 ? { qos: 1 as const, rh: 1 } : { qos: 1 as const };
        client.subscribe([...topics.cmdFilters], opts, (err) => {
          if (err && s.live) logger.warn({ err }, 'mqtt: could not subscribe to commands');
        });
      }
      logger.info(
        { url: this.#status.url, protocolVersion: this.#o.protocolVersion, depth: this.#safeDepth(), session },
        'mqtt: connected; draining outbox',
      );
      this.#setStatus('connected');
      this.#pump();
    });
    // mqtt.js sends the PUBACK of a QoS 1 message when handleMessage calls back, and
    // handles the next incoming packet only then (one at a time, in order). So: store or
    // reject the command first, then acknowledge. (`customHandleAcks` would do the same
    // but mqtt.js 5.16 honours it for MQTT 5 only; the embedded broker speaks 3.1.1.)
    // A flood of commands thus waits in the broker, not in our memory.
    client.handleMessage = (packet, callback) => {
      void this.#command(s, packet.topic.toString(), packet.payload, packet.retain, packet.dup).then(
        (ack) => {
          if (ack) callback();
        },
      );
    };
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
    // These were PUBACKed: record them before the next connection reads the outbox.
    this.#flushAcked();
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
    let sent = false;
    try {
      while (s.live && s.inFlight < s.window) {
        if (s.aheadIdx >= s.ahead.length) {
          s.ahead = this.#readAhead(s);
          s.aheadIdx = 0;
          if (s.ahead.length === 0) {
            // Caught up: no throughput to win by waiting, so record the PUBACKs now.
            if (s.inFlight === 0) this.#flushAcked();
            break;
          }
        }
        this.#publishRow(s, s.ahead[s.aheadIdx++]!);
        sent = true;
      }
      if (sent) this.#scheduleAfterSend();
    } catch (err) {
      // The store is the store's problem; the rows stay pending for the next wake-up.
      this.#o.logger.error({ err }, 'mqtt: reading the outbox failed');
    } finally {
      this.#pumping = false;
    }
  }

  /** The next rows after the session's cursor. */
  #readAhead(s: Session): OutboxRow[] {
    const rows = this.#o.outbox.outboxPending(READ_AHEAD, s.cursor);
    const last = rows.at(-1);
    if (last) s.cursor = last.id;
    s.more = rows.length === READ_AHEAD;
    return rows;
  }

  /**
   * The SQLite work of a drain, done once the packets of a refill have been written
   * (mqtt-packet writes them when the pump's tick ends) and the broker is handling them:
   * read the next rows before they are needed, and mark a chunk of PUBACKed rows.
   */
  #scheduleAfterSend(): void {
    if (this.#afterSendScheduled) return;
    this.#afterSendScheduled = true;
    setImmediate(() => {
      this.#afterSendScheduled = false;
      const s = this.#session;
      if (!s?.live || !s.connected || this.#stopping) return;
      try {
        if (s.more && s.ahead.length - s.aheadIdx < s.window) {
          const rest = s.ahead.slice(s.aheadIdx);
          const next = this.#readAhead(s);
          s.ahead = rest.length === 0 ? next : rest.concat(next);
          s.aheadIdx = 0;
        }
      } catch (err) {
        this.#o.logger.error({ err }, 'mqtt: reading the outbox failed');
      }
      if (this.#acked.length >= MARK_CHUNK) this.#flushAcked();
    });
  }

  #publishRow(s: Session, row: OutboxRow): void {
    s.inFlight += 1;
    // `historical`: the row was written before this connection came up, i.e. it waited
    // out an outage or a restart. Decided here because only the link knows.
    // Two string comparisons, not a Set: a row's topic is a fresh string from SQLite, and
    // a Set lookup would hash it for every row.
    const topic = row.topic;
    const payload = (topic === this.#events || topic === this.#alerts) && row.payload.endsWith('}')
      ? row.payload.slice(0, -1) + (row.createdAt < s.connectedAt ? HISTORICAL_TRUE : HISTORICAL_FALSE)
      : row.payload;
    s.client.publish(row.topic, payload, PUBLISH_OPTIONS[row.qos], (err) => {
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
      this.#markAcked(row.id);
      this.#schedulePump();
    });
  }

  /**
   * Refill the window once per turn of the event loop, after every PUBACK that arrived
   * in it was handled: the freed slots go out together (mqtt-packet corks the socket
   * until the next tick), one write for many packets instead of one write each.
   */
  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #markAcked(id: number): void {
    if (!this.#o.outbox.markDeliveredMany) {
      try {
        this.#o.outbox.markDelivered(id);
      } catch (err) {
        // Not marked means sent again later: a duplicate, never a loss.
        this.#o.logger.error({ err, outboxId: id }, 'mqtt: could not mark row delivered');
      }
      return;
    }
    this.#acked.push(id);
    if (this.#acked.length >= MARK_BATCH) this.#flushAcked();
    else if (!this.#flushTimer) {
      // One commit (one fsync, which blocks the event loop) per batch of PUBACKs, not
      // per row. A crash before it re-sends these rows: duplicates, never a loss.
      this.#flushTimer = setTimeout(() => this.#flushAcked(), MARK_DELAY_MS);
    }
  }

  #flushAcked(): void {
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    if (this.#acked.length === 0) return;
    const ids = this.#acked;
    this.#acked = [];
    try {
      this.#o.outbox.markDeliveredMany?.(ids);
    } catch (err) {
      // Not marked means sent again later: duplicates, never a loss.
      this.#o.logger.error({ err, rows: ids.length }, 'mqtt: could not mark rows delivered');
    }
  }

  #nextSession(): number {
    try {
      if (this.#o.statusSource) return this.#o.statusSource.nextSession();
    } catch (err) {
      this.#o.logger.error({ err }, 'mqtt: session counter unavailable; counting in memory');
    }
    this.#sessionCounter += 1;
    return this.#sessionCounter;
  }

  #statusPayload(session: number, state: StatusMessageV1['state'], cause?: 'stopped' | 'lost'): string {
    const msg: StatusMessageV1 = { v: 1, state, session };
    if (cause !== 'lost') msg.at = new Date(this.#o.now()).toISOString();
    if (cause !== undefined) msg.cause = cause;
    if (state === STATUS_ONLINE && this.#o.statusSource) {
      try {
        // Birth facts first, our own fields last: a provider cannot override them.
        return JSON.stringify({ ...this.#o.statusSource.birth(), ...msg });
      } catch (err) {
        this.#o.logger.error({ err }, 'mqtt: birth facts unavailable');
      }
    }
    return JSON.stringify(msg);
  }

  #publishOnline(s: Session): void {
    s.client.publish(this.#o.topics.status, this.#statusPayload(s.session, STATUS_ONLINE), { qos: 1, retain: true }, (err) => {
      if (err && s.live) this.#o.logger.warn({ err }, 'mqtt: could not publish online status');
    });
  }

  /** Handles one inbound message; true = acknowledge it, false = the connection is dropped unacknowledged. */
  async #command(s: Session, topic: string, raw: Buffer | string, retained: boolean, dup: boolean): Promise<boolean> {
    const payload = typeof raw === 'string' ? Buffer.from(raw) : raw;
    const cmd = this.#parseCommand(topic, payload, retained, dup);
    if (!cmd || !this.#o.onCommand) return true;
    // One turn of the event loop per command: HTTP (/healthz, the kiosk) and timers run
    // between the commands of a flood instead of after all of them.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (!s.live) return false;
    this.#o.logger.debug({ kind: cmd.kind.slice(0, 64), bytes: payload.length, retained, dup }, 'mqtt: command received');
    try {
      await this.#o.onCommand(cmd);
      return true;
    } catch (err) {
      // Not acknowledged: the broker keeps it in our session and delivers it again.
      this.#o.logger.error({ err, topic }, 'mqtt: command handler failed; dropping the connection unacknowledged');
      this.#drop(s, 'command handler failed');
      return false;
    }
  }

  #parseCommand(topic: string, payload: Buffer, retained: boolean, dup: boolean): InboundCommand | null {
    for (const [i, filter] of this.#o.topics.cmdFilters.entries()) {
      const base = filter.slice(0, -1); // "…/cmd/"
      if (topic.startsWith(base) && topic.length > base.length) {
        return { topic, kind: topic.slice(base.length), siteWide: i === 1, retained, ...(dup ? { dup } : {}), payload };
      }
    }
    this.#o.logger.debug({ topic }, 'mqtt: message on an unexpected topic ignored');
    return null;
  }

  /** Our window, never above the broker's Receive Maximum (one slot kept for status). */
  #window(connack: IConnackPacket): number {
    const wanted = Math.max(1, this.#o.maxInFlight ?? 32);
    const brokerMax = connack.properties?.receiveMaximum;
    return brokerMax === undefined ? wanted : Math.max(1, Math.min(wanted, brokerMax - 1));
  }

  #setStatus(state: LinkStatus['state'], raw?: string): void {
    // OpenSSL errors arrive as "C0…:error:0A00045C:SSL routines::tlsv13 alert certificate
    // required\n": keep the readable last part, on one line, for /healthz and the console.
    const detail = raw?.replace(/^[0-9A-F]+:error:[0-9A-F]+:[^:]*:[^:]*:/, '').replace(/\s+/g, ' ').trim();
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
