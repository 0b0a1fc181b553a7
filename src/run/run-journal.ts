// One run's side of the transfer journal (docs/engine.md, "What an interruption leaves behind"): repair what an
// earlier run left before rclone starts, journal each rclone attempt's copies, repair right after an attempt that
// did not end with `Bisync successful`, and remove the journal once the run is recorded.

import type { JobConfig, RcloneCapabilities } from '../config/types.js';
import { atLeast } from '../rclone/caps.js';
import { hasFlag } from '../rclone/args.js';
import type { CopyBatch, OutputSummary } from '../rclone/output.js';
import type { Operation, RunRecord } from './types.js';
import { errorText } from '../errors.js';
import type { Clock, Logger } from '../ports.js';
import { repairAfterRun, type RepairDeps, type RepairResult } from './interrupt-repair.js';
import { journalBatch } from './interrupted-runs.js';
import { readJournal, removeJournal, writeJournal, type TransferJournal } from './transfer-journal.js';

/** From this version rclone writes local, sftp, ftp and smb copies to `*.partial` and renames them when complete. */
const IN_PLACE_BEFORE = '1.63';

export interface RunJournalDeps {
  job: JobConfig;
  caps: RcloneCapabilities;
  workdir: string;
  journalFile: string;
  runId: number;
  trigger: RunRecord['trigger'];
  clock: Clock;
  log: Logger;
  repair: RepairDeps;
  /** The user asked for `--inplace`: even rclone >= 1.63 then writes under the real name. */
  inplace: boolean;
}

export interface RunJournal {
  /** Before rclone runs: repair what an earlier run left. Throws when that cannot be checked (nothing may sync then). */
  repairLeftovers(): Promise<void>;
  /** One rclone run with its copies journaled; what it left is repaired at once unless rclone said `Bisync successful`. */
  attempt<T extends { summary: OutputSummary }>(operation: Operation, run: (onCopyBatch: (batch: CopyBatch) => void) => Promise<T>): Promise<T>;
  /** What was repaired, for the run record. */
  notes(): string[];
  /** The run is recorded: the journal goes, unless it still names copies to repair (the next run does it first). */
  close(): void;
}

function repairNote(r: RepairResult): string {
  const parts: string[] = [];
  if (r.removed.length > 0) parts.push(`removed ${r.removed.length} half-written file${r.removed.length === 1 ? '' : 's'}`);
  if (r.restoredListings) parts.push('put the listings back');
  if (r.reconciled.length > 0) parts.push(`recorded ${r.reconciled.length} completed cop${r.reconciled.length === 1 ? 'y' : 'ies'} in the listings`);
  return `repaired an interrupted run (${parts.join(', ')})`;
}

export function openRunJournal(deps: RunJournalDeps): RunJournal {
  const { job, caps, log } = deps;
  const notes: string[] = [];
  /** Copies of an earlier run still to repair (an rclone of it was still alive): kept in this run's journal. */
  let carried: TransferJournal | undefined;
  /** The journal still names copies to repair: it outlives this run. */
  let pending = false;

  async function repair(journal: TransferJournal, restoreErrListings: boolean, justEnded: boolean): Promise<RepairResult> {
    const r = await repairAfterRun({ job, workdir: deps.workdir, journal, restoreErrListings, reconcileListings: !atLeast(caps, '1.64'), inPlaceWrites: deps.inplace || !atLeast(caps, IN_PLACE_BEFORE), nowMs: deps.clock.now(), justEnded }, deps.repair);
    if (r.removed.length > 0 || r.restoredListings || r.reconciled.length > 0) notes.push(repairNote(r));
    return r;
  }

  function save(journal: TransferJournal): void {
    try {
      writeJournal(deps.journalFile, journal);
    } catch (e: unknown) {
      log.warn('cannot write the transfer journal', { error: errorText(e) });
    }
  }

  /** After an attempt: true when its copies are settled, false when they wait for the next run. */
  async function settle(journal: TransferJournal, summary: OutputSummary): Promise<boolean> {
    const copied = journal.batches.some((b) => b.paths.length > 0 || b.overflow);
    // This run succeeded while copies of an earlier one were never checked: keep them for the next run.
    if (summary.success) return carried === undefined;
    if (summary.remoteUnreachable !== '' && !copied && !hasFlag(caps, 'recover') && summary.mustResync) {
      // 1.60 set its listings aside although nothing was copied: put them back at the next run (no resync needed).
      journal.restoreListings = true;
      save(journal);
      return false;
    }
    if (summary.remoteUnreachable !== '' && copied) {
      // The remote cannot be checked now. Without --recover (1.60) the listings rclone set aside are the pair's
      // trusted state: they are put back after that repair.
      journal.restoreListings = !hasFlag(caps, 'recover');
      save(journal);
      return false;
    }
    if (!copied && summary.noSpace === undefined) return true;
    try {
      return !(await repair(journal, summary.noSpace !== undefined, true)).busy; // busy: an rclone still holds the pair
    } catch (e: unknown) {
      log.warn('cannot repair what the run left behind yet; the next run tries first', { error: errorText(e) });
      return false;
    }
  }

  return {
    async repairLeftovers() {
      const left = readJournal(deps.journalFile);
      if (left === undefined) return;
      const r = await repair(left, left.restoreListings === true, false);
      if (r.busy && left.batches.length > 0) carried = left;
    },

    async attempt(operation, run) {
      const journal: TransferJournal = {
        version: 1,
        runId: deps.runId,
        operation,
        trigger: deps.trigger,
        rcloneVersion: caps.version,
        // Carried copies keep their run's start: a leftover is recognised by being written since then.
        startedMs: carried?.startedMs ?? deps.clock.now(),
        batches: [...(carried?.batches ?? [])],
        restoreListings: carried?.restoreListings === true,
      };
      save(journal);
      const result = await run((batch) => {
        journal.batches.push(journalBatch(job, batch));
        save(journal);
      });
      pending = !(await settle(journal, result.summary));
      if (pending) {
        carried = journal; // a later attempt of this run keeps these copies in its journal
      } else {
        carried = undefined;
        if (journal.batches.length > 0) {
          journal.batches = []; // repaired; the journal stays until the run is recorded
          save(journal);
        }
      }
      return result;
    },

    notes: () => [...notes],

    close() {
      if (!pending) removeJournal(deps.journalFile);
    },
  };
}
