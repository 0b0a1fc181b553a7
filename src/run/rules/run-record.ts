// The one builder of a run record: every record (a run, a refusal, a failure, an interrupted or a dropped run) is
// made here, so the defaults, the masking of secrets and the hint that names the job are the same everywhere.

import { renderHint } from '../../api/hints.js';
import type { OutputSummary } from '../../rclone/output.js';
import type { ExitStatus } from '../../ports.js';
import type { Operation, Outcome, RunRecord, RunRequest, TransferCounts } from '../types.js';

/** Lines of rclone's output a record keeps. */
export const TAIL_KEEP = 50;

export interface RunRecordInput {
  runId: number;
  job: string;
  outcome: Outcome;
  /** One line for humans: what happened. */
  message: string;
  startedMs: number;
  /** Default: startedMs (nothing ran). */
  finishedMs?: number;
  /** Default 'bisync'. */
  operation?: Operation;
  /** Default 'manual'. */
  trigger?: RunRequest['trigger'];
  /** Default false. */
  dryRun?: boolean;
  /** rclone's exit; undefined when rclone did not run (exit code and signal null). */
  exit?: ExitStatus | undefined;
  /** What to do next, with JOB where the job's name goes. Default ''. */
  hint?: string;
  /** What rclone printed: counts, conflicts and hash warnings come from it (zero without one). */
  summary?: OutputSummary;
  /** Counts that override the summary's (e.g. one error for a run that failed outside rclone). */
  counts?: Partial<TransferCounts>;
  /** Default ''. */
  errorText?: string;
  /** Last lines of output; the last TAIL_KEEP are kept. Default none. */
  tail?: readonly string[];
  /**
   * Masks secrets in message, error text and tail (the runner passes log/redact.ts's redactSecrets with the job's
   * secret values). Records of runs that never saw rclone's output pass none and are kept as written.
   */
  redact?: (text: string) => string;
}

function countsOf(summary: OutputSummary | undefined, overrides: Partial<TransferCounts> | undefined): TransferCounts {
  const st = summary?.stats;
  return {
    filesTransferred: st?.transfers ?? 0,
    bytesTransferred: st?.bytes ?? 0,
    deletes: st?.deletes ?? 0,
    renames: st?.renames ?? 0,
    errors: st?.errors ?? 0,
    ...overrides,
  };
}

/** The record of one run, with defaults for what did not happen and the hint naming the job. */
export function buildRunRecord(input: RunRecordInput): RunRecord {
  // Records reach History and JobFinished: rclone's text may carry credentials (URLs, tokens), so mask them.
  const redact = input.redact ?? ((text: string): string => text);
  return {
    runId: input.runId,
    job: input.job,
    operation: input.operation ?? 'bisync',
    trigger: input.trigger ?? 'manual',
    dryRun: input.dryRun ?? false,
    startedMs: input.startedMs,
    finishedMs: input.finishedMs ?? input.startedMs,
    exitCode: input.exit?.code ?? null,
    signal: input.exit?.signal ?? null,
    outcome: input.outcome,
    message: redact(input.message),
    hint: renderHint(input.hint ?? '', input.job),
    counts: countsOf(input.summary, input.counts),
    conflicts: (input.summary?.conflicts ?? []).map((c) => ({ path: c.path, copies: [...c.copies] })),
    hashWarnings: input.summary?.hashBlank ?? 0,
    errorText: redact(input.errorText ?? ''),
    tail: (input.tail ?? []).slice(-TAIL_KEEP).map(redact),
  };
}
