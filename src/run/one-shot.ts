// One-shot mode (`rbmctl sync --standalone`, the old tool's `sync`): runs the named (or all active) jobs
// in-process, one after another, prints one line per job and returns an exit code per outcome.

import type { Config } from '../config/types.js';
import type { JobRunner, RunRecord, RunRequest } from './types.js';
import { exitCodeForOutcome } from '../api/outcomes.js';
import { EXIT_OK, errorText, exitCodeFor, isRbmError, worstExitCode, type ErrorCode } from '../errors.js';

export interface OneShotDeps {
  runner: JobRunner;
  /** Aborting stops the running job safely (Ctrl-C) and skips the rest. */
  signal?: AbortSignal;
}

/** Exit code of one outcome: the outcome table's (src/api/outcomes.ts). */
export { exitCodeForOutcome };


function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i] ?? 'TiB'}`;
}

/** The one line printed for a finished run (plus indented detail lines). */
export function describeRecord(record: RunRecord): string[] {
  const c = record.counts;
  const counts = `${c.filesTransferred} copied (${formatBytes(c.bytesTransferred)}), ${c.deletes} deleted`;
  const lines = [`${record.job}: ${record.outcome}${record.dryRun ? ' [dry run]' : ''} — ${record.message} [${record.operation}, ${counts}]`];
  for (const conflict of record.conflicts.slice(0, 20)) {
    lines.push(`  conflict: ${conflict.path}${conflict.copies.length > 0 ? ` → ${conflict.copies.join(', ')}` : ''}`);
  }
  if (record.conflicts.length > 20) lines.push(`  … and ${record.conflicts.length - 20} more conflicts`);
  if (record.hint !== '') lines.push(`  next: ${record.hint.replace(/\bJOB\b/g, record.job)}`);
  return lines;
}

/** Runs the jobs and returns the process exit code. Unknown job names exit 3 without running anything. */
export async function runOneShot(config: Config, jobNames: readonly string[], request: RunRequest, deps: OneShotDeps, print: (line: string) => void): Promise<number> {
  const byName = new Map(config.jobs.map((job) => [job.name, job]));
  const unknown = jobNames.filter((name) => !byName.has(name));
  if (unknown.length > 0) {
    print(`rbmctl: no such job: ${unknown.join(', ')} (jobs: ${config.jobs.map((j) => j.name).join(', ') || 'none'})`);
    return exitCodeFor('NoSuchJob');
  }
  const jobs = jobNames.length > 0 ? jobNames.map((name) => byName.get(name)).filter((j) => j !== undefined) : config.jobs.filter((job) => job.active);
  if (jobs.length === 0) {
    print('no active jobs to run');
    return EXIT_OK;
  }
  const codes: number[] = [];
  for (const job of jobs) {
    if (deps.signal?.aborted) {
      print(`${job.name}: skipped (cancelled)`);
      codes.push(exitCodeFor('Cancelled'));
      continue;
    }
    const req: RunRequest = { ...request, trigger: request.trigger ?? 'manual' };
    try {
      const runId = deps.runner.nextRunId();
      const record = await deps.runner.run(job, config.global, req, runId, deps.signal ? { signal: deps.signal } : {});
      for (const line of describeRecord(record)) print(line);
      codes.push(exitCodeForOutcome(record.outcome));
    } catch (e: unknown) {
      const code: ErrorCode = isRbmError(e) ? e.code : 'Internal';
      print(`${job.name}: ${errorText(e)}`);
      if (isRbmError(e) && e.hint) print(`  next: ${e.hint}`);
      codes.push(exitCodeFor(code));
    }
  }
  return worstExitCode(codes);
}
