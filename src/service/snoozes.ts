// Snoozed notifications (issue 15): the global snooze and each job's, as until-times, kept across restarts (read on
// first use, written after every change; a file that cannot be read counts as no snooze, logged once). A snooze
// silences the telling, never the state: health and Status() stay as they are.
import { JOB_NAME_PATTERN } from '../api/requests.js';
import { errorText } from '../errors.js';
import type { Logger } from '../ports.js';
import { isSnoozed } from '../alerts/filter.js';

/** The longest snooze (30 days): Snooze accepts no more, and a longer one read from the file is cut to it. */
export const MAX_SNOOZE_SEC = 30 * 86_400;

/** What is kept: until-times in ms since the epoch (0 or absent = not snoozed). */
export interface SnoozeRecord {
  globalUntilMs: number;
  jobs: Readonly<Record<string, number>>;
}

/** Where the snoozes are kept. Both may throw; `load` of a file that does not exist returns no snooze. */
export interface SnoozeStore {
  load(): SnoozeRecord;
  save(record: SnoozeRecord): void;
  /**
   * false: the store belongs to the service, and this one runs another config (rbmctl sync --standalone --config
   * other.yaml): the snoozes of jobs not in this config are not forgotten. Default true.
   */
  prunes?: boolean;
}

export const NO_SNOOZE: SnoozeRecord = Object.freeze({ globalUntilMs: 0, jobs: Object.freeze({}) });

const isUntil = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The file's JSON as a SnoozeRecord; throws on anything else (the store then counts as empty, logged once). */
export function parseSnoozeRecord(text: string): SnoozeRecord {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
  const { globalUntilMs, jobs } = value as Record<string, unknown>;
  if (!isUntil(globalUntilMs) || typeof jobs !== 'object' || jobs === null || Array.isArray(jobs)) throw new Error('globalUntilMs or jobs is missing');
  const entries = Object.entries(jobs as Record<string, unknown>).filter((e): e is [string, number] => JOB_NAME_PATTERN.test(e[0]) && isUntil(e[1]));
  return { globalUntilMs, jobs: Object.fromEntries(entries) };
}

/** The text written for a record (one line). */
export function formatSnoozeRecord(record: SnoozeRecord): string {
  return `${JSON.stringify({ globalUntilMs: record.globalUntilMs, jobs: record.jobs })}\n`;
}

export interface SnoozesDeps {
  logger: Logger;
  now: () => number;
  /** Default: snoozes are not kept across restarts. */
  store?: SnoozeStore | undefined;
}

export interface Snoozes {
  /** Snooze the named jobs (an empty list: the global snooze, which covers every job, new ones too) until `untilMs`. */
  snooze(jobs: readonly string[], untilMs: number): void;
  /** End the named jobs' snoozes; an empty list ends the global snooze and every job's. */
  unsnooze(jobs: readonly string[]): void;
  /** When the job's notifications are snoozed until: its own or the global snooze, the later (may lie in the past). */
  untilOf(job: string): number;
  /** The global snooze's until-time (may lie in the past). */
  globalUntil(): number;
  /** Forget the snoozes of jobs that left the config (written only when something was forgotten). */
  keepOnly(jobs: readonly string[]): void;
}

export function createSnoozes({ logger, now, store }: SnoozesDeps): Snoozes {
  let globalUntilMs = 0;
  const jobs = new Map<string, number>();
  let loaded = false;

  function ensureLoaded(): void {
    if (loaded) return;
    loaded = true;
    if (!store) return;
    let record: SnoozeRecord;
    try {
      record = store.load();
    } catch (e: unknown) {
      logger.warn('cannot read the snoozed notifications; nothing is snoozed', { error: errorText(e) });
      return;
    }
    const nowMs = now();
    // A clock set back, or a hand-edited file, cannot snooze for longer than Snooze allows.
    const capped = (until: number): number => Math.min(until, nowMs + MAX_SNOOZE_SEC * 1000);
    if (isSnoozed(record.globalUntilMs, nowMs)) globalUntilMs = capped(record.globalUntilMs);
    for (const [name, until] of Object.entries(record.jobs)) if (isSnoozed(until, nowMs)) jobs.set(name, capped(until));
  }

  /** Best effort: a failure is logged, and the snooze holds until the service stops. */
  function save(): void {
    if (!store) return;
    const nowMs = now();
    const kept = [...jobs].filter(([, until]) => isSnoozed(until, nowMs));
    try {
      store.save({ globalUntilMs: isSnoozed(globalUntilMs, nowMs) ? globalUntilMs : 0, jobs: Object.fromEntries(kept) });
    } catch (e: unknown) {
      logger.warn('cannot record the snoozed notifications; they are snoozed until the service stops', { error: errorText(e) });
    }
  }

  return {
    snooze(names, untilMs) {
      ensureLoaded();
      if (names.length === 0) globalUntilMs = untilMs;
      else for (const name of names) jobs.set(name, untilMs);
      save();
    },

    unsnooze(names) {
      ensureLoaded();
      if (names.length === 0) {
        globalUntilMs = 0;
        jobs.clear();
      } else {
        for (const name of names) jobs.delete(name);
      }
      save();
    },

    untilOf(job) {
      ensureLoaded();
      return Math.max(globalUntilMs, jobs.get(job) ?? 0);
    },

    globalUntil() {
      ensureLoaded();
      return globalUntilMs;
    },

    keepOnly(names) {
      ensureLoaded();
      if (store?.prunes === false) return;
      const wanted = new Set(names);
      const gone = [...jobs.keys()].filter((name) => !wanted.has(name));
      for (const name of gone) jobs.delete(name);
      if (gone.length > 0) save();
    },
  };
}
