// Sync on change (issue 16), the config half: `watch`, `watch_delay`, `watch_max_wait`, at the top level for every
// job and per job (the job's own value wins). Pure: the parser locates and reports the problems this returns.
import { parseDurationMs } from '../api/duration.js';
import type { WatchSettings } from './types.js';

export const WATCH_KEYS = ['watch', 'watch_delay', 'watch_max_wait'] as const;
export type WatchKey = (typeof WATCH_KEYS)[number];

/** Off until a user turns it on (docs/decisions.md "Sync on change, wired"). */
export const DEFAULT_WATCH: WatchSettings = Object.freeze({ enabled: false, delayMs: 1000, maxWaitMs: 10_000 });

export const WATCH_DELAY_MIN_MS = 50;
export const WATCH_DELAY_MAX_MS = 600_000;
export const WATCH_MAX_WAIT_MAX_MS = 3_600_000;

const DELAY_EXPECTED = 'a duration from 50ms to 10 minutes, such as "1s", "500ms" or 0.5 (seconds)';
const MAX_WAIT_EXPECTED = 'a duration up to 1 hour and at least watch_delay, such as "10s" or "1m"';

export interface WatchKeyProblem {
  key: WatchKey;
  message: string;
}

/** The watch keys of `raw` over `fallback`; `usable(key)` is false when the schema already reported that key. */
export function readWatchKeys(raw: Readonly<Record<string, unknown>>, fallback: WatchSettings, usable: (key: WatchKey) => boolean): { settings: WatchSettings; problems: WatchKeyProblem[] } {
  const problems: WatchKeyProblem[] = [];
  const durationOf = (key: 'watch_delay' | 'watch_max_wait', min: number, max: number, expected: string): number | undefined => {
    const value = raw[key];
    if (value === undefined || !usable(key)) return undefined;
    const ms = parseDurationMs(value);
    if (ms === undefined) problems.push({ key, message: `${JSON.stringify(value)} is not a duration (expected ${expected})` });
    else if (ms < min || ms > max) problems.push({ key, message: `${JSON.stringify(value)} is out of range (expected ${expected})` });
    else return ms;
    return undefined;
  };
  const ownDelay = durationOf('watch_delay', WATCH_DELAY_MIN_MS, WATCH_DELAY_MAX_MS, DELAY_EXPECTED);
  const ownMaxWait = durationOf('watch_max_wait', 0, WATCH_MAX_WAIT_MAX_MS, MAX_WAIT_EXPECTED);
  const delayMs = ownDelay ?? fallback.delayMs;
  const maxWaitMs = ownMaxWait ?? fallback.maxWaitMs;
  if (maxWaitMs < delayMs && (ownDelay !== undefined || ownMaxWait !== undefined)) {
    // Reported where the user set it: the max wait when set here, else the delay that outgrew the inherited max wait.
    const key = ownMaxWait !== undefined ? 'watch_max_wait' : 'watch_delay';
    problems.push({ key, message: `watch_max_wait (${maxWaitMs} ms) is shorter than watch_delay (${delayMs} ms) (expected watch_max_wait ≥ watch_delay)` });
  }
  const enabled = typeof raw.watch === 'boolean' && usable('watch') ? raw.watch : fallback.enabled;
  return { settings: Object.freeze({ enabled, delayMs, maxWaitMs }), problems };
}
