// Is the system clock synchronised (NTP)? The 48-hour test window, pass expiry, the
// ledger's times and the zone resets all read the PC's clock: a clock that drifted or
// was set by hand admits an expired pass or refuses a valid one. Checked once at start:
// systemd's `timedatectl` (the kernel's sync flag, set by systemd-timesyncd, chrony or
// ntpd), else systemd-timesyncd's flag file. Not synchronised → a warning and an alert;
// no way to tell → a warning saying so.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { AlertInput } from '../telemetry/alerts.js';

export type ClockSyncState = 'synchronised' | 'unsynchronised' | 'unknown';

export interface ClockSync {
  state: ClockSyncState;
  /** What answered (`timedatectl`, the flag file), or why nothing could. */
  how: string;
}

/** The machine as the check sees it; tests give their own. */
export interface ClockProbe {
  /** stdout of `timedatectl show -p NTPSynchronized --value`; rejects when it cannot run or fails. */
  timedatectl(): Promise<string>;
  /** Does systemd-timesyncd's flag file exist? */
  timesyncFlag(): boolean;
}

export const TIMESYNC_FLAG = '/run/systemd/timesync/synchronized';

export const systemClockProbe: ClockProbe = {
  timedatectl: () =>
    new Promise((resolve, reject) => {
      execFile('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], { timeout: 3000, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (err) reject(new Error(((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not installed' : stderr.trim().split('\n')[0]) || err.message));
        else resolve(stdout);
      });
    }),
  timesyncFlag: () => existsSync(TIMESYNC_FLAG),
};

export async function clockSync(probe: ClockProbe = systemClockProbe): Promise<ClockSync> {
  let why: string;
  try {
    const answer = (await probe.timedatectl()).trim();
    if (answer === 'yes') return { state: 'synchronised', how: 'timedatectl' };
    if (answer === 'no') return { state: 'unsynchronised', how: 'timedatectl: NTPSynchronized=no' };
    why = `timedatectl answered ${JSON.stringify(answer.slice(0, 40))}`;
  } catch (err) {
    why = `timedatectl: ${(err as Error).message}`;
  }
  if (probe.timesyncFlag()) return { state: 'synchronised', how: TIMESYNC_FLAG };
  return { state: 'unknown', how: `${why}; no ${TIMESYNC_FLAG}` };
}

/** The alert of a clock that is not synchronised (gateway-wide, needs acknowledging). */
export function clockAlert(sync: ClockSync): AlertInput {
  return {
    lane: null,
    kind: 'clock-unsynced',
    severity: 'warning',
    code: 'CLOCK_NOT_SYNCHRONISED',
    eventId: null,
    detail: `The system clock is not synchronised (${sync.how}): test windows and pass expiry depend on it. Check NTP: timedatectl timesync-status`,
  };
}

interface ClockLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Check the clock, log what was found and raise the alert when it is not synchronised. */
export async function reportClockSync(logger: ClockLogger, raise: (a: AlertInput) => void, probe: ClockProbe = systemClockProbe): Promise<ClockSync> {
  const sync = await clockSync(probe);
  if (sync.state === 'synchronised') logger.info({ clock: sync }, `system clock synchronised (${sync.how})`);
  else if (sync.state === 'unsynchronised') {
    logger.warn({ clock: sync }, 'the system clock is NOT synchronised (NTP): 48 h test windows and pass expiry depend on it; see docs/install.md "Time"');
    raise(clockAlert(sync));
  } else {
    logger.warn({ clock: sync }, `could not check whether the system clock is synchronised (${sync.how}): 48 h test windows and pass expiry depend on it; see docs/install.md "Time"`);
  }
  return sync;
}
