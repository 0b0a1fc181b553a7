// When the service first saw each job (issue 15): the staleness reference of a job that has never run at all (a job
// that ran has trackedSinceMs in its state). Kept across restarts, so a job whose every slot is missed (the computer
// is off at 03:00 every night) still becomes stale although the service restarts more often than stale_after.
// Written only when a job appears or leaves the config; a file that cannot be read counts as empty, logged once.
import { JOB_NAME_PATTERN } from '../api/requests.js';
import { errorText } from '../errors.js';
import type { Logger } from '../ports.js';

/** Where the first-seen times are kept (ms since the epoch, by job). Both may throw; a missing file is `{}`. */
export interface FirstSeenStore {
  load(): Readonly<Record<string, number>>;
  save(firstSeen: Readonly<Record<string, number>>): void;
}

export interface FirstSeen {
  /** Record `now` for the jobs not seen before and forget those that left the config (saved when anything changed). */
  note(jobs: readonly string[]): void;
  /** When the job was first seen; undefined before note() saw it. */
  of(job: string): number | undefined;
}

/** The file's JSON as first-seen times; throws on anything but an object (entries that are not a job's are dropped). */
export function parseFirstSeen(text: string): Record<string, number> {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter((e): e is [string, number] => JOB_NAME_PATTERN.test(e[0]) && typeof e[1] === 'number' && Number.isSafeInteger(e[1]) && e[1] > 0));
}

export function createFirstSeen({ logger, now, store }: { logger: Logger; now: () => number; store?: FirstSeenStore | undefined }): FirstSeen {
  const seen = new Map<string, number>();
  let loaded = false;

  function ensureLoaded(): void {
    if (loaded) return;
    loaded = true;
    if (!store) return;
    try {
      for (const [name, ms] of Object.entries(store.load())) seen.set(name, ms);
    } catch (e: unknown) {
      logger.warn('cannot read when the jobs were first seen; counting from now', { error: errorText(e) });
    }
  }

  return {
    note(jobs) {
      ensureLoaded();
      const wanted = new Set(jobs);
      let changed = false;
      const nowMs = now();
      for (const name of jobs) {
        if (seen.has(name)) continue;
        seen.set(name, nowMs);
        changed = true;
      }
      for (const name of [...seen.keys()]) {
        if (wanted.has(name)) continue;
        seen.delete(name);
        changed = true;
      }
      if (!changed || !store) return;
      try {
        store.save(Object.fromEntries(seen));
      } catch (e: unknown) {
        logger.warn('cannot record when the jobs were first seen; a job that never runs is stale later after a restart', { error: errorText(e) });
      }
    },
    of(job) {
      ensureLoaded();
      return seen.get(job);
    },
  };
}
