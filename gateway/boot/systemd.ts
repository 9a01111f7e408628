// systemd readiness and watchdog through the maintained `sd-notify` package (an optional,
// native dependency): READY=1 once the gateway serves, WATCHDOG=1 at half the unit's
// WatchdogSec from the event loop, so a hung process is killed and restarted too.
// Loaded dynamically: without it (or outside systemd) the gateway runs, with a warning.

/** The part of sd-notify the gateway uses. */
export interface SdNotify {
  ready(): void;
  watchdog(): void;
  stopping(pid: number): void;
  /** WATCHDOG_USEC in ms, 0 when no watchdog is asked for (or it is meant for another pid). */
  watchdogInterval(): number;
}

export interface NotifyLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface SystemdNotifier {
  /** Interval of the WATCHDOG=1 pings (ms), 0 when none. */
  readonly pingMs: number;
  /** STOPPING=1 and no more pings. */
  stop(): void;
}

const NONE: SystemdNotifier = { pingMs: 0, stop: () => undefined };

async function loadSdNotify(): Promise<SdNotify> {
  // A variable specifier: the package has no types and may be absent (optional dependency).
  const name = 'sd-notify';
  const mod = (await import(name)) as { default?: SdNotify } & SdNotify;
  return mod.default ?? mod;
}

/** Tell systemd the gateway is ready and start the watchdog pings; call after "ready". */
export async function notifySystemd(logger: NotifyLogger, env: NodeJS.ProcessEnv = process.env, load: () => Promise<SdNotify> = loadSdNotify): Promise<SystemdNotifier> {
  if (!env['NOTIFY_SOCKET']) {
    logger.warn({ systemd: false }, 'NOTIFY_SOCKET is unset: no READY=1 or watchdog pings (fine outside systemd; the shipped unit is Type=notify)');
    return NONE;
  }
  let sd: SdNotify;
  try {
    sd = await load();
  } catch (err) {
    logger.warn({ systemd: false, err: (err as Error).message }, 'sd-notify is not installed: systemd gets no READY=1 or watchdog pings (npm install sd-notify; needs libsystemd-dev to build)');
    return NONE;
  }
  sd.ready();
  const watchdogMs = sd.watchdogInterval();
  // Half the interval, as sd_watchdog_enabled(3) advises; the timer runs on the event
  // loop, so a blocked loop misses its pings and systemd kills the process.
  const pingMs = watchdogMs > 0 ? Math.max(1, Math.floor(watchdogMs / 2)) : 0;
  const timer = pingMs > 0 ? setInterval(() => sd.watchdog(), pingMs) : null;
  timer?.unref();
  if (timer) sd.watchdog();
  logger.info({ systemd: true, watchdogMs, pingMs }, `systemd notified: READY=1${pingMs ? `, WATCHDOG=1 every ${pingMs} ms` : ', no watchdog asked for'}`);
  return {
    pingMs,
    stop() {
      if (timer) clearInterval(timer);
      sd.stopping(process.pid);
    },
  };
}
