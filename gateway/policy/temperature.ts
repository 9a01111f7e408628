// Temperature rule 4: below the threshold passes; an implausible reading is re-measured,
// not trusted; a reading at or above the threshold is re-measured once and refused when
// confirmed; a reading the device itself flagged invalid (out of its range) is re-measured
// at once and referred when it repeats. Pure: the lane feeds the readings of one passage,
// oldest first.
import type { PolicyProfile, TemperatureReading } from './types.js';

export type TemperatureAssessment =
  /** No reading yet: ask for one. */
  | { kind: 'none' }
  /** Last reading implausible, retries left: ask again. */
  | { kind: 'remeasure'; implausibleCount: number }
  /** Implausible readings beyond the retries: refer to the guard. */
  | { kind: 'implausible'; implausibleCount: number }
  /** Last reading flagged invalid by the device, first such: ask again at once. */
  | { kind: 'invalid-remeasure'; invalidCount: number }
  /** The device flagged a reading invalid again: refer to the guard. */
  | { kind: 'invalid'; invalidCount: number }
  /** First plausible reading at/above the threshold: ask once more. */
  | { kind: 'recheck'; celsius: number }
  /** At/above the threshold again after an earlier plausible one: fever. */
  | { kind: 'fever'; celsius: number }
  /** Plausible and below the threshold. */
  | { kind: 'normal'; celsius: number };

/**
 * Temperatures are compared in whole hundredths of a degree, so 37.3 from a device
 * (37.29999…) or from YAML equals the threshold 37.3 exactly. A reading with more
 * decimals is rounded to the nearest hundredth first: 37.295 counts as 37.30.
 */
export function hundredths(celsius: number): number {
  return Math.round(celsius * 100);
}

/**
 * Device-flagged invalid readings a passage may re-measure before it is referred: one,
 * so a second "out of range" in a row (a sensor that cannot see the person, or is broken)
 * goes to the guard instead of looping.
 */
export const INVALID_READING_RETRIES = 1;

export function isPlausible(celsius: number, profile: PolicyProfile): boolean {
  if (typeof celsius !== 'number' || !Number.isFinite(celsius)) return false;
  const h = hundredths(celsius);
  return h >= hundredths(profile.plausibleMin) && h <= hundredths(profile.plausibleMax);
}

/** Only meaningful for a plausible reading. */
export function isFever(celsius: number, profile: PolicyProfile): boolean {
  return hundredths(celsius) >= hundredths(profile.feverThreshold);
}

export function assessTemperature(readings: readonly TemperatureReading[], profile: PolicyProfile): TemperatureAssessment {
  const last = readings[readings.length - 1];
  if (!last) return { kind: 'none' };
  if (last.invalid !== undefined) {
    const invalidCount = readings.filter((r) => r.invalid !== undefined).length;
    return invalidCount <= INVALID_READING_RETRIES ? { kind: 'invalid-remeasure', invalidCount } : { kind: 'invalid', invalidCount };
  }
  if (!isPlausible(last.celsius, profile)) {
    // Every implausible reading of this passage counts, not just a run at the end: a fever
    // recheck in between does not buy a faulty sensor a fresh set of retries.
    const implausibleCount = readings.filter((r) => r.invalid === undefined && !isPlausible(r.celsius, profile)).length;
    return implausibleCount <= profile.implausibleRetries ? { kind: 'remeasure', implausibleCount } : { kind: 'implausible', implausibleCount };
  }
  if (isFever(last.celsius, profile)) {
    const confirmed = readings.slice(0, -1).some((r) => r.invalid === undefined && isPlausible(r.celsius, profile) && isFever(r.celsius, profile));
    return confirmed ? { kind: 'fever', celsius: last.celsius } : { kind: 'recheck', celsius: last.celsius };
  }
  return { kind: 'normal', celsius: last.celsius };
}
