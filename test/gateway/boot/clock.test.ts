// The clock check at start: what timedatectl or the timesyncd flag says, and an alert
// only when the clock is known not to be synchronised.
import { describe, expect, it } from 'vitest';
import { clockSync, reportClockSync, type ClockProbe } from '../../../gateway/boot/clock.js';
import type { AlertInput } from '../../../gateway/telemetry/alerts.js';

function probe(timedatectl: string | Error, flag = false): ClockProbe {
  return { timedatectl: () => (timedatectl instanceof Error ? Promise.reject(timedatectl) : Promise.resolve(timedatectl)), timesyncFlag: () => flag };
}

function recorder() {
  const lines: { level: string; msg: string }[] = [];
  const alerts: AlertInput[] = [];
  return {
    lines,
    alerts,
    logger: { info: (_o: object, msg: string) => lines.push({ level: 'info', msg }), warn: (_o: object, msg: string) => lines.push({ level: 'warn', msg }) },
    raise: (a: AlertInput) => void alerts.push(a),
  };
}

describe('clock synchronisation check', () => {
  it('takes timedatectl at its word: yes is synchronised, no is not, whatever the flag file says', async () => {
    expect(await clockSync(probe('yes\n'))).toEqual({ state: 'synchronised', how: 'timedatectl' });
    expect((await clockSync(probe('no\n', true))).state).toBe('unsynchronised');
  });

  it('falls back to the timesyncd flag file when timedatectl cannot answer, else says it could not tell and why', async () => {
    expect(await clockSync(probe(new Error('not installed'), true))).toEqual({ state: 'synchronised', how: '/run/systemd/timesync/synchronized' });
    expect(await clockSync(probe(new Error('System has not been booted with systemd as init system (PID 1). Can\'t operate.')))).toEqual({
      state: 'unknown',
      how: "timedatectl: System has not been booted with systemd as init system (PID 1). Can't operate.; no /run/systemd/timesync/synchronized",
    });
    expect((await clockSync(probe('maybe'))).how).toBe('timedatectl answered "maybe"; no /run/systemd/timesync/synchronized');
  });

  it('raises one warning alert for an unsynchronised clock, and none for a synchronised or unknown one', async () => {
    const unsynced = recorder();
    await reportClockSync(unsynced.logger, unsynced.raise, probe('no'));
    expect(unsynced.alerts).toEqual([expect.objectContaining({ kind: 'clock-unsynced', code: 'CLOCK_NOT_SYNCHRONISED', severity: 'warning', lane: null })]);
    expect(unsynced.lines).toEqual([{ level: 'warn', msg: expect.stringContaining('NOT synchronised') }]);

    const synced = recorder();
    await reportClockSync(synced.logger, synced.raise, probe('yes'));
    expect(synced.alerts).toEqual([]);
    expect(synced.lines).toEqual([{ level: 'info', msg: 'system clock synchronised (timedatectl)' }]);

    const unknown = recorder();
    await reportClockSync(unknown.logger, unknown.raise, probe(new Error('not installed')));
    expect(unknown.alerts).toEqual([]);
    expect(unknown.lines).toEqual([{ level: 'warn', msg: expect.stringMatching(/^could not check whether the system clock is synchronised \(timedatectl: not installed;/) }]);
  });
});
