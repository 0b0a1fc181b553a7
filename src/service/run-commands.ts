// The ControlApi calls that start, stop or feed runs: Sync, Cancel, Approve, and what a run left for the user
// (history, the pending deletes waiting for approval). Arguments are checked first; nothing changes on failure.
import type { PendingApproval } from '../run/rules/approval.js';
import type { JobRunner, RunRecord, RunRequest } from '../run/types.js';
import { RbmError } from '../errors.js';
import type { JobScheduleInfo, Scheduler } from '../scheduler/scheduler.js';
import type { ControlApi } from '../api/control-api.js';
import { isLockedOut, lockoutRefusal } from '../api/job-attention.js';
import { refuseForceForEveryJob } from '../api/requests.js';
import { invalidArgs, quote } from './arguments.js';

/** Most pending deletes one PendingApproval/PendingDeletes reply carries; the token always covers the full list. */
export const MAX_PENDING_PAGE = 10_000;
const DEFAULT_PENDING_PAGE = 1000;
const MAX_HISTORY = 10_000;

/** `3 deletes`, or `3 deletes, 2 overwrites` when the list has overwrites. */
function pendingCounts(p: PendingApproval): string {
  const n = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;
  const overwrites = p.overwrites?.length ?? 0;
  return overwrites === 0 ? n(p.deletes.length, 'delete') : `${n(p.deletes.length, 'delete')}, ${n(overwrites, 'overwrite')}`;
}

export interface RunCommandsDeps {
  scheduler: Scheduler;
  runner: JobRunner;
  knownJob: (name: string) => JobScheduleInfo;
  /** Throws ServiceUnavailable once shutdown started. */
  ensureNotStopping: () => void;
}

export type RunCommands = Pick<ControlApi, 'sync' | 'cancel' | 'approve' | 'history' | 'pendingDeletes' | 'pendingApproval' | 'pendingOverwrites'>;

export function createRunCommands({ scheduler, runner, knownJob, ensureNotStopping }: RunCommandsDeps): RunCommands {
  /** The full pending list with its token, from the runner (or from the state, for runners without the full list). */
  function pendingOf(name: string): PendingApproval {
    if (runner.pendingApproval) return runner.pendingApproval(name);
    const s = runner.readState(name);
    return s.needsApproval ? { token: s.approvalToken, deletes: [...s.pendingDeletes], overwrites: [...s.pendingOverwrites] } : { token: '', deletes: [] };
  }

  /** offset and limit of a page request, checked; the page size for `limit`. */
  function pageSize(offset: unknown, limit: unknown): number {
    for (const [arg, v] of [['offset', offset], ['limit', limit]] as const) {
      if (!Number.isInteger(v) || (v as number) < 0) throw invalidArgs(`${arg}: expected a whole number ≥ 0, got ${quote(v)}`);
    }
    return limit === 0 ? DEFAULT_PENDING_PAGE : Math.min(limit as number, MAX_PENDING_PAGE);
  }

  function trigger(jobs: JobScheduleInfo[], request: RunRequest): number[] {
    return jobs.map((j) => scheduler.trigger(j.name, request));
  }

  return {
    sync(jobsArg, requestArg) {
      try {
        // Typed values from the one request parser (src/api/requests.ts); duplicate names queue once.
        const request: RunRequest = { ...requestArg };
        const names = [...new Set(jobsArg)];
        refuseForceForEveryJob(names, request);
        ensureNotStopping();
        request.trigger ??= 'manual';
        let targets: JobScheduleInfo[];
        if (names.length === 0) {
          // All active jobs, except those that wait for the user and are not addressed by this request.
          targets = scheduler
            .jobs()
            .filter((j) => !j.removed && j.config.active && !j.paused)
            // A job waiting for approval runs (it previews again); force is refused below for an empty list.
            .filter((j) => !isLockedOut(j.config, runner.readState(j.name), request));
        } else {
          targets = names.map(knownJob);
          for (const j of targets) {
            const s = runner.readState(j.name);
            if (j.paused) throw new RbmError('Paused', `job '${j.name}' is paused`, { hint: `Resume it first: rbmctl resume ${j.name}` });
            if (isLockedOut(j.config, s, request)) throw lockoutRefusal(j.name, s);
          }
        }
        return Promise.resolve(trigger(targets, request));
      } catch (e: unknown) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    },

    cancel(jobsArg) {
      try {
        const names = jobsArg;
        const targets = names.length === 0 ? scheduler.jobs().filter((j) => j.running || j.queued).map((j) => j.name) : names.map((n) => knownJob(n).name);
        for (const name of targets) scheduler.cancel(name);
        return Promise.resolve();
      } catch (e: unknown) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    },

    history(jobArg, limit): RunRecord[] {
      const name = jobArg;
      if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0) throw invalidArgs(`limit: expected a whole number ≥ 0, got ${quote(limit)}`);
      knownJob(name);
      return runner.history(name, limit === 0 ? MAX_HISTORY : Math.min(limit, MAX_HISTORY));
    },

    pendingDeletes(jobArg) {
      const name = jobArg;
      knownJob(name);
      return pendingOf(name).deletes.slice(0, MAX_PENDING_PAGE);
    },

    pendingApproval(jobArg, offset, limit) {
      const name = jobArg;
      const count = pageSize(offset, limit);
      knownJob(name);
      const pending = pendingOf(name);
      return { token: pending.token, total: pending.deletes.length, deletes: pending.deletes.slice(offset, offset + count) };
    },

    pendingOverwrites(jobArg, offset, limit) {
      const count = pageSize(offset, limit);
      knownJob(jobArg);
      const pending = pendingOf(jobArg);
      const overwrites = pending.overwrites ?? [];
      return { token: pending.token, total: overwrites.length, overwrites: overwrites.slice(offset, offset + count).map((o) => ({ to: o.to, path: o.path })) };
    },

    approve(jobArg, tokenArg) {
      try {
        const name = jobArg;
        ensureNotStopping();
        const info = knownJob(name);
        if (info.paused) throw new RbmError('Paused', `job '${name}' is paused`, { hint: `Resume it first: rbmctl resume ${name}` });
        const current = pendingOf(name);
        if (current.token !== tokenArg) {
          throw new RbmError('ApprovalStale', current.token === '' ? `job '${name}' has nothing waiting for approval (the token is from an older list)` : `job '${name}': the token is not the one of the pending list (${pendingCounts(current)}); it changed since you reviewed it`, {
            hint: `Review the list again and approve what it shows now: rbmctl approve ${name}`,
          });
        }
        return Promise.resolve(scheduler.trigger(name, { trigger: 'manual', approvalToken: tokenArg }));
      } catch (e: unknown) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    },
  };
}
