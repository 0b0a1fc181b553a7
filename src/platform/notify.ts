// sd_notify messages (READY, RELOADING, STOPPING, STATUS, WATCHDOG) through the optional sd-notify addon.
// Readiness does not depend on them: the unit is Type=dbus (ready once the bus name is owned). Without NOTIFY_SOCKET,
// or without the addon, every call is a silent no-op.
import type { Logger } from '../ports.js';

/** What the service tells its supervisor. All methods are synchronous and never throw. */
export interface Notifier {
  /** Start-up (or a reload) is complete. */
  ready(): void;
  /** A reload starts: RELOADING=1 with MONOTONIC_USEC (systemd 253+ notify-reload needs it). */
  reloading(): void;
  /** Shutdown starts; also stops the watchdog. */
  stopping(): void;
  /** One line for `systemctl status`; repeated identical lines are not re-sent. */
  status(text: string): void;
  /** Ping every WATCHDOG_USEC/2 while WatchdogSec= is set (an unref'd timer). */
  startWatchdog(): void;
  stopWatchdog(): void;
}

export const nullNotifier: Notifier = Object.freeze({
  ready() {},
  reloading() {},
  stopping() {},
  status() {},
  startWatchdog() {},
  stopWatchdog() {},
});

/** The parts of sd-notify 2.8 we call (its native `sendState` takes one string, whatever @types say). */
export interface SdNotifyAddon {
  ready(): void;
  stopping(pid: number): void;
  watchdog(): void;
  /** WATCHDOG_USEC in ms, 0 when unset or meant for another pid. */
  watchdogInterval(): number;
  sendState(state: string): void;
}

export interface NotifierOptions {
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
  /** Loads the addon; tests pass a recorder. Defaults to a dynamic import of sd-notify. */
  loadAddon?: () => Promise<SdNotifyAddon>;
}

async function importSdNotify(): Promise<SdNotifyAddon> {
  const name = 'sd-notify'; // a variable keeps bundlers and tsc from requiring the optional module
  const mod = (await import(name)) as { default?: SdNotifyAddon } & Partial<SdNotifyAddon>;
  return mod.default ?? (mod as SdNotifyAddon);
}

function monotonicUsec(): bigint {
  return process.hrtime.bigint() / 1000n;
}

/** A real notifier when NOTIFY_SOCKET is set and the addon loads; otherwise the null notifier (with a warning when systemd asked for notifications). */
export async function createNotifier(options: NotifierOptions): Promise<Notifier> {
  const { env, logger } = options;
  if (!env.NOTIFY_SOCKET) return nullNotifier;
  let addon: SdNotifyAddon;
  try {
    addon = await (options.loadAddon ?? importSdNotify)();
  } catch (e: unknown) {
    // Expected where npm could not build it and in the Debian package: start-up and stop work the same (Type=dbus).
    logger.info('NOTIFY_SOCKET is set but the sd-notify addon could not be loaded: no STATUS= line or watchdog pings for systemd', {
      error: e instanceof Error ? e.message : String(e),
      hint: 'Optional. For them: install g++, make and libsystemd-dev, then npm rebuild sd-notify and reinstall.',
    });
    return nullNotifier;
  }
  const send = (state: string): void => {
    try {
      addon.sendState(state);
    } catch (e: unknown) {
      logger.debug('sd_notify failed', { state, error: String(e) });
    }
  };
  let lastStatus: string | undefined;
  let watchdog: ReturnType<typeof setInterval> | undefined;
  const notifier: Notifier = {
    ready() {
      send('READY=1');
    },
    reloading() {
      send(`RELOADING=1\nMONOTONIC_USEC=${monotonicUsec()}`);
    },
    stopping() {
      notifier.stopWatchdog();
      send('STOPPING=1');
    },
    status(text) {
      const line = text.replace(/[\r\n]+/g, ' ').slice(0, 400);
      if (line === lastStatus) return;
      lastStatus = line;
      send(`STATUS=${line}`);
    },
    startWatchdog() {
      if (watchdog !== undefined) return;
      let intervalMs = 0;
      try {
        intervalMs = addon.watchdogInterval();
      } catch {
        intervalMs = 0;
      }
      if (!(intervalMs > 0)) return;
      send('WATCHDOG=1');
      watchdog = setInterval(() => send('WATCHDOG=1'), Math.max(1, Math.floor(intervalMs / 2)));
      watchdog.unref(); // never the reason the process stays alive
      logger.debug('watchdog enabled', { intervalMs });
    },
    stopWatchdog() {
      if (watchdog === undefined) return;
      clearInterval(watchdog);
      watchdog = undefined;
    },
  };
  return notifier;
}
