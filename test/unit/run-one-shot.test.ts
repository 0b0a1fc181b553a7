// One-shot sync: one printed line per job and a documented exit code per outcome.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Config, GlobalSettings, JobConfig } from '../../src/config/types.js';
import { initialJobState } from '../../src/run/rules/job-state.js';
import type { JobRunner, Outcome, RunRecord, RunRequest } from '../../src/run/types.js';
import { worstExitCode } from '../../src/errors.js';
import { exitCodeForOutcome, runOneShot } from '../../src/run/one-shot.js';
import { RbmError } from '../../src/errors.js';
import { makeGlobal, makeJob } from '../helpers/job.js';

function fakeRunner(outcomes: Record<string, Outcome | RbmError>, seen: { job: string; request: RunRequest }[] = []): JobRunner {
  let id = 0;
  return {
    nextRunId: () => ++id,
    run(job: JobConfig, _g: GlobalSettings, request: RunRequest, runId: number): Promise<RunRecord> {
      seen.push({ job: job.name, request });
      const outcome = outcomes[job.name] ?? 'success';
      if (outcome instanceof RbmError) return Promise.reject(outcome);
      return Promise.resolve({
        runId, job: job.name, operation: 'bisync', trigger: request.trigger ?? 'manual', dryRun: false, startedMs: 0, finishedMs: 1, exitCode: 0, signal: null,
        outcome, message: `it was ${outcome}`, hint: outcome === 'needs-resync' ? 'run rbmctl sync JOB --resync' : '',
        counts: { filesTransferred: 3, bytesTransferred: 2048, deletes: 1, renames: 0, errors: 0 },
        conflicts: outcome === 'conflicts' ? [{ path: 'b.txt', copies: ['/l/b.txt.conflict1'] }] : [], hashWarnings: 0, errorText: '', tail: [],
      });
    },
    readState: () => initialJobState(),
    history: () => [],
  };
}

const config: Config = { path: '/c.yaml', global: makeGlobal(), jobs: [makeJob({ name: 'a' }), makeJob({ name: 'b' }), makeJob({ name: 'off', active: false })] };

test('documented exit codes per outcome', () => {
  const table: [Outcome, number][] = [['success', 0], ['no-changes', 0], ['conflicts', 0], ['dry-run', 0], ['failed', 1], ['locked', 5], ['needs-resync', 6], ['needs-approval', 7], ['cancelled', 8], ['retryable', 75], ['check-failed', 11]];
  for (const [outcome, code] of table) assert.equal(exitCodeForOutcome(outcome), code, outcome);
  assert.equal(worstExitCode([0, 75, 7, 0]), 7);
  assert.equal(worstExitCode([75, 1, 6]), 1);
  assert.equal(worstExitCode([0, 0]), 0);
});

test('runs all active jobs in order, prints one line each with counts and conflicts', async () => {
  const lines: string[] = [];
  const seen: { job: string; request: RunRequest }[] = [];
  const code = await runOneShot(config, [], { dryRun: true }, { runner: fakeRunner({ b: 'conflicts' }, seen) }, (l) => lines.push(l));
  assert.equal(code, 0);
  assert.deepEqual(seen.map((s) => s.job), ['a', 'b'], 'inactive jobs are skipped');
  assert.equal(seen[0]?.request.trigger, 'manual');
  assert.equal(seen[0]?.request.dryRun, true);
  assert.match(lines[0] ?? '', /^a: success — it was success \[bisync, 3 copied \(2\.0 KiB\), 1 deleted\]$/);
  assert.ok(lines.includes('  conflict: b.txt → /l/b.txt.conflict1'));
});

test('the most serious outcome decides the exit code, and next steps name the job', async () => {
  const lines: string[] = [];
  const code = await runOneShot(config, ['a', 'b'], {}, { runner: fakeRunner({ a: 'retryable', b: 'needs-resync' }) }, (l) => lines.push(l));
  assert.equal(code, 6);
  assert.ok(lines.includes('  next: run rbmctl sync b --resync'));
});

test('a job held by another process exits 5; an unknown job exits 3 before anything runs', async () => {
  const lines: string[] = [];
  const busy = new RbmError('AlreadyRunning', 'job a is already running (process 42)', { hint: 'Wait.' });
  assert.equal(await runOneShot(config, ['a'], {}, { runner: fakeRunner({ a: busy }) }, (l) => lines.push(l)), 5);
  assert.deepEqual(lines, ['a: job a is already running (process 42)', '  next: Wait.']);
  const seen: { job: string; request: RunRequest }[] = [];
  assert.equal(await runOneShot(config, ['a', 'nope'], {}, { runner: fakeRunner({}, seen) }, () => {}), 3);
  assert.equal(seen.length, 0);
});

test('a named inactive job still runs when asked for explicitly; an aborted signal skips the rest', async () => {
  const seen: { job: string; request: RunRequest }[] = [];
  assert.equal(await runOneShot(config, ['off'], {}, { runner: fakeRunner({}, seen) }, () => {}), 0);
  assert.deepEqual(seen.map((s) => s.job), ['off']);
  const controller = new AbortController();
  controller.abort();
  const lines: string[] = [];
  assert.equal(await runOneShot(config, [], {}, { runner: fakeRunner({}), signal: controller.signal }, (l) => lines.push(l)), 8);
  assert.deepEqual(lines, ['a: skipped (cancelled)', 'b: skipped (cancelled)']);
});
