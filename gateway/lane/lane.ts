// One lane's state machine: credential read → temperature paired within a window →
// decision → relay pulse on admit → ready for the next person. One person at a time.
// The lane never opens the gate unless the policy said admit and every device is up.
import { randomUUID } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import type { Logger } from 'pino';
import type { InvalidReading, PassageEvent, PassageSensorDevice, RelayDevice, ScannerDevice, ThermometerDevice, ThermometerReading } from '../../drivers/types.js';
import type { LaneConfig } from '../config/schema.js';
import { resolveCredential } from '../credentials/index.js';
import { CodedError } from '../errors.js';
import type { ParsedCredential, ResolvedCredential, VehicleFacts } from '../credentials/types.js';
import { approvalInUse, crewInUse, decide } from '../policy/decide.js';
import { evaluatedFacts } from '../policy/replay.js';
import { reason, zoneOccupancyText } from '../policy/reasons.js';
import { applyZone } from '../policy/zones.js';
import { DAY_MS, LOCAL_OFFSET_MS, localDay } from '../policy/time.js';
import type { Alert, DecideInput, Decision, LocalFacts, PolicyProfile, Reason, TemperatureReading, VehicleAtGate, Verdict } from '../policy/types.js';
import type { AlertRecord, LedgerEntry, NewLedgerEntry, RosterEntry } from '../store/types.js';
import { maskName } from './mask.js';
import type { LaneZone } from './zone-gate.js';
import type { DecisionView, LaneDeviceCounters, LaneHandle, LaneSimControls, LaneSnapshot, LaneState, ZoneOccupancyView } from './types.js';

export interface LaneDevices {
  scanner: ScannerDevice;
  thermometer: ThermometerDevice;
  relay: RelayDevice;
  /** A beam across the lane: counts the zone's people; the lane stays in service without it. */
  sensor?: PassageSensorDevice;
}

export interface LaneDeps {
  config: LaneConfig;
  devices: LaneDevices;
  sim: LaneSimControls | null;
  profile: PolicyProfile;
  /** Name and content hash of the profile in force, recorded with each decision. */
  policyId?: () => { name: string; hash: string };
  /** The zone this lane counts into or out of, when it belongs to one. */
  zone?: LaneZone;
  /** How long a decision stays on screen before the lane shows "waiting" again. */
  showMs: number;
  decode: (payload: Buffer, now: number) => Promise<ParsedCredential>;
  roster: (staffId: string) => RosterEntry | undefined;
  facts: (subjectId: string) => LocalFacts;
  /** Goods categories of a plate's admissions in [from, to) (epoch ms); absent = none counted. */
  vehicleGoods?: (plate: string, from: number, to: number) => string[];
  pseudonym: (subjectId: string) => string;
  /** Commits the ledger row (and its outbox row) and returns it; throws if it could not. */
  record: (entry: NewLedgerEntry) => LedgerEntry;
  onSnapshot: (snapshot: LaneSnapshot) => void;
  /** Stores (and publishes) an alert that is not part of a decision, e.g. a guard override. */
  recordAlert?: (alert: AlertRecord) => void;
  now: () => number;
  logger: Logger;
}

/** Why a guard override was not carried out; nothing was written. */
export class LaneOverrideError extends CodedError<'LANE_BUSY' | 'RELAY_DOWN'> {
  constructor(code: 'LANE_BUSY' | 'RELAY_DOWN', message: string) {
    super(code, `${code}: ${message}`);
  }
}

export interface OverrideResult {
  /** The ledger row (kind override, actor = the guard). */
  event: LedgerEntry;
  /** False when the relay did not take the pulse (a fault row follows in the ledger). */
  pulsed: boolean;
}

/** What the policy decided from, for the ledger (profile and its hash, evaluated facts). */
type Evaluated = Required<Pick<NewLedgerEntry, 'profile' | 'profileHash' | 'facts'>> & Pick<NewLedgerEntry, 'approver' | 'approvalKey' | 'responsible' | 'crewId'>;

interface Passage {
  credential: ResolvedCredential;
  readings: TemperatureReading[];
  prompt: Reason | null;
  /** The vehicle pass scanned just before, on a vehicle gate. */
  vehicle?: VehicleFacts;
}

/**
 * How long after an admission its person may take to cross the beam: the gate's open
 * pulse plus a slow walk. A crossing with no admission this recent raises a tailgate alert.
 */
export const PASSAGE_AFTER_ADMISSION_MS = 15_000;

/** Subjects whose pseudonym a lane remembers (a day's people at a large site; ~100 bytes each). */
export const PSEUDONYM_MEMORY = 4096;

/** Default wait for the driver's pass after a vehicle pass: one minute. */
export const VEHICLE_DRIVER_WINDOW_MS = 60_000;

const NO_FACTS: LocalFacts = { watchlist: [], approvals: [], riskAreas: [] };
/** What #downDevices returns while every device is up (never written to). */
const NONE_DOWN: readonly never[] = Object.freeze([]);
/**
 * A ledger row's id (also its event's id): a UUID version 7 (RFC 9562), time-ordered from
 * the row's own time. The ledger's unique index on id then grows at its end, as seq does:
 * a decision's insert and a retention cut's deletes touch the index's last and first
 * pages, not a random page of a year of rows that may be on disk (random version-4 ids
 * made the cut read the index's pages inside its steps: docs/store.md "Time-ordered ids").
 */
function ledgerId(at: number): string {
  return uuidv7({ msecs: at });
}
const DEVICE_DOWN_CODES = {
  scanner: 'DEVICE_DOWN_SCANNER',
  thermometer: 'DEVICE_DOWN_THERMOMETER',
  relay: 'DEVICE_DOWN_RELAY',
} as const;

export class Lane implements LaneHandle {
  readonly id: string;
  readonly sim: LaneSimControls | null;
  readonly #deps: LaneDeps;
  #state: LaneState = 'idle';
  #since: number;
  /** Set while a credential is being decoded: the lane is busy. */
  #decoding = false;
  /** The scan being handled, so callers (tests, benches) can wait for it. */
  #inFlight: Promise<void> = Promise.resolve();
  #passage: Passage | null = null;
  /** A vehicle pass waiting for its driver's pass (vehicle gate only). */
  #vehicle: VehicleFacts | null = null;
  #vehicleTimer: NodeJS.Timeout | null = null;
  /** The latest reading not yet paired with a passage (a reading just before the scan). */
  #unpaired: ThermometerReading | null = null;
  #last: DecisionView | null = null;
  #measureTimer: NodeJS.Timeout | null = null;
  #showTimer: NodeJS.Timeout | null = null;
  readonly #unsubscribe: (() => void)[] = [];
  /** When each admission the passage sensor has not yet seen go through was recorded. */
  #admitted: number[] = [];
  /** Subject id → keyed pseudonym, for #pseudonym. */
  readonly #pseudonyms = new Map<string, string>();

  constructor(deps: LaneDeps) {
    this.#deps = deps;
    this.id = deps.config.id;
    this.sim = deps.sim;
    this.#since = deps.now();
  }

  async start(): Promise<void> {
    const { scanner, thermometer, relay } = this.#deps.devices;
    this.#listen(scanner, 'scan', (payload: Buffer) => {
      this.#inFlight = this.#onScan(payload).catch((err: unknown) => {
        this.#deps.logger.error({ err }, 'scan handling failed');
      });
    });
    this.#listen(thermometer, 'reading', (r: ThermometerReading) => this.#onReading(r));
    this.#listen(thermometer, 'invalid', (r: InvalidReading) => this.#onInvalidReading(r));
    const sensor = this.#deps.devices.sensor;
    if (sensor) this.#listen(sensor, 'passage', (p: PassageEvent) => this.#onPassage(p));
    await Promise.all([scanner.start(), thermometer.start(), relay.start(), sensor?.start()]);
    // Listen to status only once all devices had their chance to come up, so start-up
    // does not flash "out of service"; the check below catches any that did not.
    for (const d of [scanner, thermometer, relay, ...(sensor ? [sensor] : [])]) this.#listen(d, 'status', () => this.#onDeviceStatus());
    // The gate must be shut whatever state a previous run left it in.
    await relay.allOff().catch((err: unknown) => this.#deps.logger.error({ err }, 'relay all-off at start failed'));
    this.#onDeviceStatus();
  }

  async stop(): Promise<void> {
    this.#clearTimers();
    for (const off of this.#unsubscribe.splice(0)) off();
    const { scanner, thermometer, relay } = this.#deps.devices;
    await relay.allOff().catch((err: unknown) => this.#deps.logger.warn({ err }, 'relay all-off at stop failed'));
    await Promise.all([scanner.stop(), thermometer.stop(), relay.stop(), this.#deps.devices.sensor?.stop()]);
  }

  /**
   * A guard opens the gate once, under their own id ("who handles it signs"). Ledger row
   * first, then the alert, then the pulse, as for any admission. Refused while a person is
   * being measured (finish or let that passage time out first) and while the relay is down.
   */
  async override(guardId: string, why: Reason, note: string): Promise<OverrideResult> {
    if (this.#passage || this.#decoding || this.#vehicle) {
      throw new LaneOverrideError('LANE_BUSY', `lane ${this.id} is handling a passage; wait for its decision`);
    }
    const relay = this.#deps.devices.relay;
    if (relay.status.state !== 'connected') {
      throw new LaneOverrideError('RELAY_DOWN', `the relay of lane ${this.id} is ${relay.status.state}; open the gate by hand`);
    }
    const at = this.#deps.now();
    const entry: NewLedgerEntry = {
      id: ledgerId(at),
      at,
      lane: this.id,
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
    // Throws when the ledger cannot be written: then the gate stays shut.
    const event = this.#deps.record(entry);
    // The ledger row is the record; a lost alert must not keep the gate shut.
    this.#alert(event.at, 'guard-override', why.code, event.id, `guard ${guardId}: ${why.en}`);
    this.#show(event);
    this.#countZone(event);
    try {
      await relay.pulse(this.#deps.config.relayPulseMs);
      return { event, pulsed: true };
    } catch (err) {
      this.#relayFailed(err, event);
      return { event, pulsed: false };
    }
  }

  /** Resolves once the latest scan has been decoded and evaluated. */
  settled(): Promise<void> {
    return this.#inFlight;
  }

  /** Each device's cumulative counters (null for a device that keeps none). */
  deviceCounters(): LaneDeviceCounters {
    const { scanner, thermometer, relay, sensor } = this.#deps.devices;
    const copy = (d: { counters?: Readonly<Record<string, number>> }) => (d.counters ? { ...d.counters } : null);
    return { scanner: copy(scanner), thermometer: copy(thermometer), relay: copy(relay), ...(sensor ? { sensor: copy(sensor) } : {}) };
  }

  snapshot(): LaneSnapshot {
    const { scanner, thermometer, relay, sensor } = this.#deps.devices;
    return {
      lane: this.id,
      name: this.#deps.config.name ?? this.id,
      state: this.#state,
      since: this.#since,
      prompt: this.#passage?.prompt ?? (this.#vehicle ? reason('VEHICLE_DRIVER_NEEDED') : null),
      last: this.#last,
      devices: { scanner: scanner.status, thermometer: thermometer.status, relay: relay.status, ...(sensor ? { sensor: sensor.status } : {}) },
      ...this.#occupancy(),
      ...(this.#healthChecks() ? {} : { healthChecks: 'off' as const }),
    };
  }

  /** Show the lane again (its zone's count changed elsewhere: an exit, a beam, a correction). */
  republish(): void {
    this.#emit();
  }

  /**
   * The profile in force changed (a policy update, health checks turned on or off): the
   * devices the lane needs may have changed (no thermometer without health checks), and a
   * person waiting to be measured is decided again under the new rules at once.
   */
  policyChanged(): void {
    if (!this.#healthChecks()) this.#unpaired = null;
    this.#onDeviceStatus();
    if (this.#passage && this.#state === 'measuring') this.#evaluate();
  }

  /** False when the profile in force reads no health claim (access control only): no thermometer, no readings. */
  #healthChecks(): boolean {
    return this.#deps.profile.healthChecks !== 'off';
  }

  /** How full this entry lane's zone is, for its kiosk; nothing on other lanes or when the store cannot say. */
  #occupancy(): { zone?: ZoneOccupancyView } {
    const zone = this.#deps.zone;
    if (zone?.direction !== 'in') return {};
    try {
      const { id, count, limit } = zone.at(null);
      const full = limit !== null && count >= limit;
      const { zh, en } = full ? reason('ZONE_FULL', { count, limit }) : zoneOccupancyText(count, limit);
      return { zone: { id, count, limit, full, text: { zh, en } } };
    } catch (err) {
      this.#deps.logger.warn({ err, zone: zone.zone }, 'zone count unreadable for the kiosk');
      return {};
    }
  }

  /** Someone went through the beam: the zone counts them (admitted or not: a tailgater takes a seat too). */
  #onPassage(p: PassageEvent): void {
    try {
      this.#deps.zone?.sensed(p.at);
    } catch (err) {
      this.#deps.logger.error({ err, zone: this.#deps.zone?.zone }, 'zone count not updated from the passage sensor');
    }
    // An exit lane's beam sees people leave freely; elsewhere each body needs an admission.
    if (this.#deps.zone?.direction === 'out') return;
    this.#admitted = this.#admitted.filter((at) => p.at - at <= PASSAGE_AFTER_ADMISSION_MS);
    if (this.#admitted.shift() !== undefined) return;
    this.#alert(p.at, 'tailgate', 'PASSAGE_WITHOUT_ADMISSION', null, 'someone went through the lane with no admission to go with it (tailgating or a forced gate)');
  }

  /** An alert of this lane that is not part of a decision; a store failure is logged, never thrown. */
  #alert(at: number, kind: AlertRecord['kind'], code: string, eventId: string | null, detail: string): void {
    try {
      this.#deps.recordAlert?.({ id: randomUUID(), at, lane: this.id, kind, severity: 'warning', code, eventId, detail });
    } catch (err) {
      this.#deps.logger.error({ err, kind, event: eventId }, 'lane alert could not be stored');
    }
  }

  /**
   * The subject's keyed pseudonym, remembered: one HMAC per person, not one or two per
   * passage (a zone lane asks before and after the decision). The key never changes under
   * a lane; the memory is bounded by starting afresh when it is full.
   */
  #pseudonym(subjectId: string): string {
    let ref = this.#pseudonyms.get(subjectId);
    if (ref === undefined) {
      ref = this.#deps.pseudonym(subjectId);
      if (this.#pseudonyms.size >= PSEUDONYM_MEMORY) this.#pseudonyms.clear();
      this.#pseudonyms.set(subjectId, ref);
    }
    return ref;
  }

  #listen(device: NodeJS.EventEmitter, event: string, handler: (...args: never[]) => void): void {
    const h = handler as (...args: unknown[]) => void;
    device.on(event, h);
    this.#unsubscribe.push(() => device.off(event, h));
  }

  /**
   * The devices without which nobody may pass (a passage sensor is not one of them, nor
   * the thermometer when the lane checks no health).
   */
  #downDevices(): readonly (keyof typeof DEVICE_DOWN_CODES)[] {
    // Checked up to three times a decision: nothing is allocated when every device is up.
    if (!this.#anyDown()) return NONE_DOWN;
    const devices = this.#deps.devices;
    const needed = (Object.keys(DEVICE_DOWN_CODES) as (keyof typeof DEVICE_DOWN_CODES)[]).filter((k) => k !== 'thermometer' || this.#healthChecks());
    return needed.filter((k) => devices[k].status.state !== 'connected');
  }

  /** True when a device #downDevices would name is not connected. */
  #anyDown(): boolean {
    const { scanner, thermometer, relay } = this.#deps.devices;
    return scanner.status.state !== 'connected' || relay.status.state !== 'connected' || (thermometer.status.state !== 'connected' && this.#healthChecks());
  }

  #deviceDownDecision(down: readonly (keyof typeof DEVICE_DOWN_CODES)[]): Decision {
    return {
      outcome: 'refer',
      reasons: down.map((d) => reason(DEVICE_DOWN_CODES[d])),
      alerts: [{ kind: 'device-fault', severity: 'warning', code: DEVICE_DOWN_CODES[down[0] ?? 'scanner'] }],
    };
  }

  #onDeviceStatus(): void {
    const down = this.#downDevices();
    if (down.length > 0) {
      // A passage in progress cannot be completed safely: refer it to the guard.
      if (this.#passage) this.#finish(this.#deviceDownDecision(down), 'decision');
      else if (this.#vehicle) this.#dropVehicle(this.#deviceDownDecision(down), 'decision');
      if (this.#state !== 'out-of-service') {
        this.#deps.logger.warn({ down }, 'lane out of service: device down');
        this.#setState('out-of-service');
      } else {
        this.#emit();
      }
    } else if (this.#state === 'out-of-service') {
      this.#deps.logger.info('lane back in service');
      this.#setState('idle');
    } else {
      this.#emit();
    }
  }

  async #onScan(payload: Buffer): Promise<void> {
    if (this.#decoding || this.#passage) {
      // One person at a time; scanners also repeat a code held under them.
      this.#deps.logger.debug('scan ignored: a passage is in progress');
      return;
    }
    const down = this.#downDevices();
    if (down.length > 0) {
      this.#record(this.#deviceDownDecision(down), 'decision', null);
      this.#emit();
      return;
    }
    this.#decoding = true;
    let credential: ResolvedCredential;
    try {
      const parsed = await this.#deps.decode(payload, this.#deps.now());
      if (parsed.ok && parsed.kind === 'vehicle-pass') {
        this.#onVehiclePass(parsed.vehicle);
        return;
      }
      credential = resolveCredential(parsed, (staffId) => this.#deps.roster(staffId));
    } catch (err) {
      // decode never throws by contract; if it does, hold the gate and say why.
      this.#deps.logger.error({ err }, 'credential decoding failed unexpectedly');
      credential = { ok: false, kind: 'unknown', code: 'CREDENTIAL_UNKNOWN', detail: 'decoder error' };
    } finally {
      this.#decoding = false;
    }
    if (this.#downDevices().length > 0) {
      this.#onDeviceStatus();
      this.#record(this.#deviceDownDecision(this.#downDevices()), 'decision', credential);
      return;
    }
    const readings: TemperatureReading[] = [];
    const before = this.#unpaired;
    // Without health checks no reading belongs to a passage.
    if (before && this.#healthChecks() && this.#deps.now() - before.at <= this.#deps.config.temperatureWindowMs) {
      readings.push({ celsius: before.celsius, at: before.at });
    }
    this.#unpaired = null;
    this.#passage = { credential, readings, prompt: null };
    // The vehicle pass waiting for a driver goes with this pass, whatever it turns out to be.
    const vehicle = this.#takeVehicle();
    if (vehicle) this.#passage.vehicle = vehicle;
    this.#evaluate();
  }

  /**
   * A verified vehicle pass. On a lane without a vehicle rule it is referred at once; on a
   * vehicle gate it waits for the driver's pass (a newer vehicle pass replaces it), and
   * after the lane's vehicleDriverWindowMs without one the lane records a timeout and is ready again.
   */
  #onVehiclePass(vehicle: VehicleFacts): void {
    if (this.#deps.profile.vehicle === undefined) {
      this.#record({ outcome: 'refer', reasons: [reason('VEHICLE_PASS_NOT_HERE')], alerts: [] }, 'decision', null, undefined, vehicle);
      return;
    }
    this.#takeVehicle();
    this.#vehicle = vehicle;
    this.#vehicleTimer = setTimeout(() => this.#onVehicleTimeout(), this.#deps.config.vehicleDriverWindowMs ?? VEHICLE_DRIVER_WINDOW_MS);
    this.#setState('measuring');
  }

  #onVehicleTimeout(): void {
    this.#vehicleTimer = null;
    if (!this.#vehicle) return;
    this.#dropVehicle({ outcome: 'refer', reasons: [reason('VEHICLE_DRIVER_TIMEOUT')], alerts: [] }, 'timeout');
  }

  /** Ends a waiting vehicle pass with a ledger row of its own (timeout, device down). */
  #dropVehicle(decision: Decision, kind: NewLedgerEntry['kind']): void {
    const vehicle = this.#takeVehicle();
    if (vehicle) this.#record(decision, kind, null, undefined, vehicle);
  }

  /** The waiting vehicle pass, no longer waiting. */
  #takeVehicle(): VehicleFacts | null {
    const vehicle = this.#vehicle;
    this.#vehicle = null;
    if (this.#vehicleTimer) clearTimeout(this.#vehicleTimer);
    this.#vehicleTimer = null;
    return vehicle;
  }

  /** The vehicle as the policy judges it: with the goods of this plate's admissions today. */
  #vehicleAtGate(vehicle: VehicleFacts, now: number): VehicleAtGate {
    const from = localDay(now) * DAY_MS - LOCAL_OFFSET_MS;
    const goodsToday = this.#deps.vehicleGoods?.(vehicle.plate, from, from + DAY_MS) ?? [];
    return { plate: vehicle.plate, goods: vehicle.goods, driver: vehicle.driver, goodsToday };
  }

  #onReading(r: ThermometerReading): void {
    // Without health checks a reading is not read at all, not even kept for the next scan.
    if (!this.#healthChecks()) return;
    if (this.#passage && this.#state === 'measuring') {
      this.#passage.readings.push({ celsius: r.celsius, at: r.at });
      this.#evaluate();
    } else {
      this.#unpaired = r;
    }
  }

  /**
   * The thermometer answered, but with no temperature (out of its range). During a
   * measurement the policy sees it at once (re-measure, then refer if it repeats) instead
   * of the person waiting out the window; before a scan it only voids the unpaired reading.
   */
  #onInvalidReading(r: InvalidReading): void {
    if (!this.#healthChecks()) return;
    if (this.#passage && this.#state === 'measuring') {
      this.#passage.readings.push({ celsius: Number.NaN, at: r.at, invalid: r.code });
      this.#evaluate();
    } else {
      this.#unpaired = null;
    }
  }

  #evaluate(): void {
    const passage = this.#passage;
    if (!passage) return;
    const credential = passage.credential;
    let verdict: Verdict;
    let evaluated: Evaluated | undefined;
    try {
      const now = this.#deps.now();
      const facts = credential.ok ? this.#deps.facts(credential.subject.id) : NO_FACTS;
      const input: DecideInput = {
        credential,
        readings: passage.readings,
        facts: passage.vehicle && credential.ok ? { ...facts, vehicle: this.#vehicleAtGate(passage.vehicle, now) } : facts,
        profile: this.#deps.profile,
        now,
      };
      verdict = decide(input);
      // A zone (seat limit, anti-passback) may hold an admission decide() gave.
      const zone = verdict.outcome === 'measure' ? undefined : this.#deps.zone?.at(credential.ok ? this.#pseudonym(credential.subject.id) : null);
      if (zone && verdict.outcome !== 'measure') verdict = applyZone(verdict, zone, input.now);
      // Kept with the row so policy replay can re-decide it under another profile.
      const id = this.#deps.policyId?.();
      // evaluatedFacts makes a fresh object: the zone goes on it rather than on a copy.
      const kept = evaluatedFacts(input);
      if (zone) kept.zone = zone;
      evaluated = { profile: id?.name ?? input.profile.name, profileHash: id?.hash ?? null, facts: kept };
      // An admission on a visitor approval uses it up by one and names who signed it.
      const approval = verdict.outcome === 'admit' && credential.ok ? approvalInUse(credential.subject.category, input.facts, input.profile, input.now) : null;
      if (approval !== null) Object.assign(evaluated, { approver: approval.approver, approvalKey: approval.key });
      // A contractor's admission names the crew it relied on and the person responsible for it.
      const crew = verdict.outcome === 'admit' && credential.ok ? crewInUse(credential.subject.category, input.facts, input.now) : null;
      if (crew !== null) Object.assign(evaluated, { responsible: crew.responsible, crewId: crew.id });
    } catch (err) {
      // Local facts could not be read (store failure): without them nobody is admitted.
      this.#deps.logger.error({ err }, 'local facts unavailable; referring');
      verdict = { outcome: 'refer', reasons: [reason('LEDGER_FAILED')], alerts: [] };
    }
    if (verdict.outcome === 'measure') {
      passage.prompt = verdict.reason;
      // Each request for a (re-)measurement gets a fresh window.
      if (this.#measureTimer) clearTimeout(this.#measureTimer);
      this.#measureTimer = setTimeout(() => this.#onMeasureTimeout(), this.#deps.config.temperatureWindowMs);
      this.#setState('measuring');
      // Last: a device may answer within measure() (an in-process link), and the answer
      // must find the lane already measuring.
      this.#deps.devices.thermometer.measure();
      return;
    }
    this.#finish(verdict, 'decision', evaluated);
  }

  #onMeasureTimeout(): void {
    this.#measureTimer = null;
    if (!this.#passage) return;
    this.#finish({ outcome: 'refer', reasons: [reason('TEMP_TIMEOUT')], alerts: [] }, 'timeout');
  }

  #finish(decision: Decision, kind: NewLedgerEntry['kind'], evaluated?: Evaluated): void {
    const passage = this.#passage;
    this.#passage = null;
    if (this.#measureTimer) clearTimeout(this.#measureTimer);
    this.#measureTimer = null;
    const row = this.#record(decision, kind, passage?.credential ?? null, evaluated, passage?.vehicle);
    if (row && decision.outcome === 'admit') {
      this.#countZone(row);
      this.#openGate(row);
    }
  }

  /** An admission (a guard's override too: someone goes through) moves the zone's count. */
  #countZone(row: LedgerEntry): void {
    // Only the recent ones matter: a sensor that sees nobody must not grow the list.
    if (this.#deps.devices.sensor) this.#admitted = [...this.#admitted.filter((at) => row.at - at <= PASSAGE_AFTER_ADMISSION_MS), row.at];
    try {
      this.#deps.zone?.passed(row.subjectRef, row.at);
    } catch (err) {
      // The admission is recorded; a count that failed is the guard's to correct.
      this.#deps.logger.error({ err, zone: this.#deps.zone?.zone }, 'zone count not updated');
    }
  }

  /** Ledger first: the record exists before the gate moves or anything is published. */
  #record(decision: Decision, kind: NewLedgerEntry['kind'], credential: ResolvedCredential | null, evaluated?: Evaluated, vehicle?: VehicleFacts): LedgerEntry | null {
    const subject = credential?.ok ? credential.subject : null;
    const at = this.#deps.now();
    const entry: NewLedgerEntry = {
      id: ledgerId(at),
      at,
      lane: this.id,
      kind,
      outcome: decision.outcome,
      reasons: decision.reasons,
      alerts: decision.alerts,
      credential: credential?.kind ?? 'unknown',
      subjectRef: subject ? this.#pseudonym(subject.id) : null,
      subjectName: subject?.name ?? null,
      category: subject?.category ?? null,
      temperature: decision.temperature ?? null,
      ...evaluated,
      // Local only: the ledger keeps plate and goods; no published payload reads them.
      ...(vehicle ? { plate: vehicle.plate, goods: vehicle.goods } : {}),
    };
    let row: LedgerEntry;
    try {
      row = this.#deps.record(entry);
    } catch (err) {
      // Without a record there is no admission: the gate stays shut.
      this.#deps.logger.error({ err }, 'ledger write failed; gate held');
      this.#show({ ...entry, outcome: 'refer', reasons: [reason('LEDGER_FAILED')] });
      return null;
    }
    this.#show(row);
    return row;
  }

  #openGate(row: LedgerEntry): void {
    this.#deps.devices.relay.pulse(this.#deps.config.relayPulseMs).catch((err: unknown) => this.#relayFailed(err, row));
  }

  /** The admission is on record but the gate did not open: record the fault, call the guard. */
  #relayFailed(err: unknown, row: LedgerEntry): void {
    this.#deps.logger.error({ err, event: row.id }, 'relay pulse failed');
    const alerts: Alert[] = [{ kind: 'gate-held', severity: 'critical', code: 'RELAY_FAILED' }];
    this.#record({ outcome: 'refer', reasons: [reason('RELAY_FAILED')], alerts }, 'fault', null);
  }

  #show(entry: NewLedgerEntry): void {
    this.#last = {
      eventId: entry.id,
      at: entry.at,
      outcome: entry.outcome,
      reasons: entry.reasons,
      maskedName: entry.subjectName === null ? null : maskName(entry.subjectName),
      temperature: entry.temperature,
    };
    // The lane's one timer, restarted: cheaper than a new timer per decision.
    if (this.#showTimer) this.#showTimer.refresh();
    else {
      this.#showTimer = setTimeout(() => {
        this.#showTimer = null;
        if (this.#state === 'showing') this.#setState('idle');
      }, this.#deps.showMs);
    }
    this.#setState(this.#downDevices().length > 0 ? 'out-of-service' : 'showing');
  }

  #setState(state: LaneState): void {
    if (state !== this.#state) {
      this.#state = state;
      this.#since = this.#deps.now();
    }
    this.#emit();
  }

  #emit(): void {
    this.#deps.onSnapshot(this.snapshot());
  }

  #clearTimers(): void {
    if (this.#vehicleTimer) clearTimeout(this.#vehicleTimer);
    this.#vehicleTimer = null;
    if (this.#measureTimer) clearTimeout(this.#measureTimer);
    if (this.#showTimer) clearTimeout(this.#showTimer);
    this.#measureTimer = null;
    this.#showTimer = null;
  }
}

