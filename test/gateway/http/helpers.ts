// Real-ish parts for the HTTP tests: lanes that hold a snapshot and record what the
// simulation controls received, a real bus, a real server on port 0, and a reader
// for server-sent events over fetch.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { GatewayBus, type BusEvents } from '../../../gateway/bus.js';
import type { HealthReport } from '../../../gateway/http/health.js';
import { startHttpServer, type HttpDeps, type RunningHttpServer } from '../../../gateway/http/server.js';
import type { DecisionView, LaneHandle, LaneSimControls, LaneSnapshot, LaneState } from '../../../gateway/lane/types.js';
import { openStore, type SqliteStore } from '../../../gateway/store/index.js';
import { GuardAccounts } from '../../../gateway/guards/accounts.js';
import { SessionManager } from '../../../gateway/guards/sessions.js';
import type { GuardApiDeps } from '../../../gateway/http/guard-api.js';
import type { OverrideResult } from '../../../gateway/lane/lane.js';
import type { Reason } from '../../../gateway/policy/types.js';
import type { LedgerEntry, NewLedgerEntry } from '../../../gateway/store/types.js';

export const T0 = Date.parse('2024-12-04T08:00:00+08:00');

export class RecordingSim implements LaneSimControls {
  readonly scans: string[] = [];
  readonly temperatures: number[] = [];
  readonly pulses: { at: number; ms: number }[] = [];

  scan(payload: string): void {
    this.scans.push(payload);
  }
  temperature(celsius: number): void {
    this.temperatures.push(celsius);
  }
  relayPulses(): { at: number; ms: number }[] {
    return [...this.pulses];
  }
}

/** A simulated lane with a passage sensor: counts the passages it is told of. */
export class SensedSim extends RecordingSim {
  passages = 0;
  readonly deviceStates: [string, string][] = [];
  passage(): void {
    this.passages += 1;
  }
  setDeviceState(device: string, state: string): void {
    this.deviceStates.push([device, state]);
  }
}

/** The real bus, counting live subscriptions so a test can see that they are released. */
export class CountingBus extends GatewayBus {
  readonly #live = new Map<keyof BusEvents, number>();

  override on<K extends keyof BusEvents>(event: K, handler: (...args: BusEvents[K]) => void): () => void {
    const off = super.on(event, handler);
    this.#live.set(event, this.listenerCount(event) + 1);
    let done = false;
    return () => {
      if (!done) {
        done = true;
        this.#live.set(event, this.listenerCount(event) - 1);
      }
      off();
    };
  }

  listenerCount(event: keyof BusEvents): number {
    return this.#live.get(event) ?? 0;
  }
}

/** A lane that only holds its snapshot; set() changes it and announces it on the bus. */
export class TestLane implements LaneHandle {
  readonly id: string;
  readonly sim: RecordingSim | null;
  #snapshot: LaneSnapshot;

  constructor(id: string, opts: { name?: string; sim?: boolean | RecordingSim } = {}) {
    this.id = id;
    this.sim = opts.sim === false ? null : opts.sim === true || opts.sim === undefined ? new RecordingSim() : opts.sim;
    const up = { type: 'sim', state: 'connected' as const, since: T0 };
    this.#snapshot = {
      lane: id,
      name: opts.name ?? `Lane ${id}`,
      state: 'idle',
      since: T0,
      prompt: null,
      last: null,
      devices: { scanner: { ...up }, thermometer: { ...up }, relay: { ...up } },
    };
  }

  snapshot(): LaneSnapshot {
    return structuredClone(this.#snapshot);
  }

  set(bus: GatewayBus, change: Partial<LaneSnapshot>): LaneSnapshot {
    this.#snapshot = { ...this.#snapshot, ...change };
    const s = this.snapshot();
    bus.emit('lane', s);
    return s;
  }
}

export function decision(outcome: DecisionView['outcome'], at: number, extra: Partial<DecisionView> = {}): DecisionView {
  return { eventId: `ev-${at}`, at, outcome, reasons: [], maskedName: '张*', temperature: 36.5, ...extra };
}

/** A committed decision row as the bus carries it: admitted at T0 on lane `north` unless `over` says otherwise. */
export function ledgerRow(over: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    id: 'e-1',
    seq: 1,
    at: T0,
    lane: 'north',
    kind: 'decision',
    outcome: 'admit',
    reasons: [],
    alerts: [],
    credential: 'health-pass',
    subjectRef: null,
    subjectName: null,
    category: null,
    temperature: 36.5,
    ...over,
  };
}

export function laneHealth(lanes: LaneHandle[], state: LaneState = 'idle'): HealthReport['lanes'] {
  return lanes.map((l) => ({ id: l.id, state, devices: l.snapshot().devices }));
}

/** A pino logger whose lines the test can read back. */
export function captureLogger(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  return {
    logger,
    lines: () =>
      out
        .join('')
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

export interface Harness {
  url: string;
  bus: CountingBus;
  lanes: TestLane[];
  logs: () => Record<string, unknown>[];
  server: RunningHttpServer;
  /** A real SQLite store in a temporary directory, removed by close(). */
  store: SqliteStore;
  /** Present when started with `guard`: the real accounts and sessions behind /api/guard. */
  guard: { accounts: GuardAccounts; sessions: SessionManager; overrides: OverrideCall[]; clock: TestClock } | null;
  close(): Promise<void>;
}

export interface OverrideCall {
  lane: string;
  guardId: string;
  why: Reason;
  note: string;
}

/** A clock a test moves by hand (sessions, lockouts, "today"). */
export class TestClock {
  t: number;
  constructor(t: number) {
    this.t = t;
  }
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface HarnessOptions {
  lanes?: TestLane[];
  simEnabled?: boolean;
  kioskResetMs?: number;
  health?: () => HealthReport;
  /** The clock the open lane views are cut to; default the guard clock, else T0 + 1 s. */
  now?: () => number;
  /** Written to a token file given as http.metricsTokenFile. */
  metricsToken?: string;
  /** http.allowedHosts. */
  allowedHosts?: string[];
  /** Build the app at the first request or `server.app()` (as the gateway's start does). */
  deferApp?: boolean;
  /** Replaces the bus the app is given (a broken one: an app that cannot be built). */
  bus?: GatewayBus;
  /** Mount the guard console with real accounts and sessions over the harness store. */
  guard?: { now?: number; loginPerMinute?: number; override?: GuardApiDeps['override']; zones?: GuardApiDeps['zones']; onZoneCorrected?: GuardApiDeps['onZoneCorrected']; nameScanRows?: number; personalDataDays?: number };
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const { logger, lines } = captureLogger();
  const dir = mkdtempSync(join(tmpdir(), 'gw-http-'));
  const store = openStore(dir);
  const bus = new CountingBus((err, event) => logger.error({ err, event }, 'bus handler failed'));
  const lanes = opts.lanes ?? [new TestLane('north'), new TestLane('south')];
  const health =
    opts.health ??
    ((): HealthReport => ({
      status: 'ok',
      version: '0.0.0-test',
      uptimeS: 1,
      site: 'mine',
      checkpoint: 'gate-1',
      lanes: laneHealth(lanes),
      mqtt: null,
      outboxDepth: 0,
    }));
  const deps: HttpDeps = {
    lanes,
    bus: opts.bus ?? bus,
    store,
    health,
    logger,
    simEnabled: opts.simEnabled ?? true,
    kioskResetMs: opts.kioskResetMs ?? 5000,
  };
  let guard: Harness['guard'] = null;
  if (opts.guard !== undefined) {
    const clock = new TestClock(opts.guard.now ?? Date.now());
    const accounts = new GuardAccounts(store.path, { maxFailures: 5, lockoutMs: 15 * 60_000 }, clock.now);
    const sessions = new SessionManager({ ttlMs: 8 * 3_600_000, idleMs: 30 * 60_000 }, clock.now);
    const overrides: OverrideCall[] = [];
    // Default override: what a lane does, minus the relay: a ledger row under the guard's id.
    const override: GuardApiDeps['override'] =
      opts.guard.override ??
      (async (lane, guardId, why, note): Promise<OverrideResult> => {
        overrides.push({ lane, guardId, why, note });
        const entry: NewLedgerEntry = {
          id: `ovr-${overrides.length}-${clock.now()}`,
          at: clock.now(),
          lane,
          kind: 'override',
          outcome: 'admit',
          reasons: [why],
          alerts: [],
          credential: 'unknown',
          subjectRef: null,
          subjectName: null,
          category: null,
          temperature: null,
          actor: guardId,
          note,
        };
        const event = store.appendDecision(entry, () => null);
        bus.emit('ledger', event);
        return { event, pulsed: true };
      });
    deps.guard = {
      accounts,
      sessions,
      store,
      override,
      pseudonym: (id) => `p1_${id}`,
      now: clock.now,
      sessionTtlMs: 8 * 3_600_000,
      loginPerMinute: opts.guard.loginPerMinute ?? 100,
      zones: opts.guard.zones ?? [],
      ...(opts.guard.onZoneCorrected ? { onZoneCorrected: opts.guard.onZoneCorrected } : {}),
      ...(opts.guard.nameScanRows !== undefined ? { nameScanRows: opts.guard.nameScanRows } : {}),
      ...(opts.guard.personalDataDays !== undefined ? { personalDataDays: opts.guard.personalDataDays } : {}),
    };
    guard = { accounts, sessions, overrides, clock };
  }
  deps.now = opts.now ?? guard?.clock.now ?? ((): number => T0 + 1000);
  let metricsTokenFile: string | undefined;
  if (opts.metricsToken !== undefined) {
    metricsTokenFile = join(dir, 'metrics.token');
    writeFileSync(metricsTokenFile, `${opts.metricsToken}\n`);
  }
  const server = await startHttpServer(deps, {
    host: '127.0.0.1',
    port: 0,
    ...(opts.allowedHosts ? { allowedHosts: opts.allowedHosts } : {}),
    ...(metricsTokenFile ? { metricsTokenFile } : {}),
    ...(opts.deferApp ? { deferApp: true } : {}),
  });
  return {
    url: server.url,
    bus,
    lanes,
    logs: lines,
    server,
    store,
    guard,
    close: async () => {
      await server.close();
      guard?.accounts.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface SseEvent {
  event: string;
  data: string;
  /** performance.now() when the event was parsed. */
  receivedAt: number;
}

/** Reads server-sent events from a fetch response body, one at a time. */
export class SseReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = '';
  readonly comments: string[] = [];
  /** `alive` events seen (the stream's once-a-second liveness signal), counted and skipped. */
  alive = 0;

  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.getReader();
  }

  async next(timeoutMs = 2000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ev = this.#take();
      if (ev !== null) return ev;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no server-sent event within ${timeoutMs} ms`);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no server-sent event within ${timeoutMs} ms`)), left);
      });
      try {
        const chunk = await Promise.race([this.#reader.read(), timeout]);
        if (chunk.done) throw new Error('event stream ended');
        this.#buffer += this.#decoder.decode(chunk.value, { stream: true });
      } finally {
        clearTimeout(timer);
      }
    }
  }

  /** Parses the next complete block that carries data; comment, retry and `alive` blocks are recorded and skipped. */
  #take(): SseEvent | null {
    for (;;) {
      const end = this.#buffer.indexOf('\n\n');
      if (end < 0) return null;
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
        else if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (event === 'alive') this.alive++;
      else if (data.length > 0) return { event, data: data.join('\n'), receivedAt: performance.now() };
    }
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel();
  }
}

export async function json(res: Response): Promise<unknown> {
  return (await res.json()) as unknown;
}

export interface ErrorJson {
  error: { code: string; message: string };
}

export async function errorOf(res: Response): Promise<ErrorJson['error']> {
  const body = (await res.json()) as ErrorJson;
  return body.error;
}
