// One-shot sync (rbmctl sync --standalone): the service built in this process runs the jobs; one outcome per job,
// printed and exited with as over D-Bus (cli/format.ts, cli/outcomes.ts); next steps name the job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Config, GlobalSettings, JobConfig } from '../../src/config/types.js';
import { initialJobState } from '../../src/run/rules/job-state.js';
import type { JobRunner, Outcome, RunRecord, RunRequest } from '../../src/run/types.js';
import { worstExitCode } from '../../src/errors.js';
import { exitCodeForResult } from '../../src/cli/outcomes.js';
import { RbmError } from '../../src/errors.js';
import { makeGlobal, makeJob } from '../helpers/job.js';
import { standaloneSync } from '../helpers/standalone-sync.js';

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
  for (const [outcome, code] of table) assert.equal(exitCodeForResult(outcome), code, outcome);
  assert.equal(worstExitCode([0, 75, 7, 0]), 7);
  assert.equal(worstExitCode([75, 1, 6]), 1);
  assert.equal(worstExitCode([0, 0]), 0);
});

test('runs all active jobs in order, prints one outcome each with counts and conflicts', async () => {
  const seen: { job: string; request: RunRequest }[] = [];
  const r = await standaloneSync(config, fakeRunner({ b: 'conflicts' }, seen), ['--dry-run']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(seen.map((s) => s.job), ['a', 'b'], 'inactive jobs are skipped');
  assert.equal(seen[0]?.request.trigger, 'manual');
  assert.equal(seen[0]?.request.dryRun, true);
  assert.match(r.stdout, /^a: success \(run 1\): it was success\n {2}3 files, 2\.0 KiB transferred, 1 deleted$/m);
  assert.match(r.stdout, /^ {2}conflicts \(both versions kept\): b\.txt$/m);
});

test('the most serious outcome decides the exit code, and next steps name the job', async () => {
  const r = await standaloneSync(config, fakeRunner({ a: 'retryable', b: 'needs-resync' }), ['a', 'b']);
  assert.equal(r.code, 6);
  assert.match(r.stdout, /^ {2}next: run rbmctl sync b --resync$/m);
  assert.doesNotMatch(r.stdout, /\bJOB\b/);
});

test('a job held by another process exits 5; an unknown job exits 3 before anything runs', async () => {
  const busy = new RbmError('AlreadyRunning', 'job a is already running (process 42)', { hint: 'Wait.' });
  const held = await standaloneSync(config, fakeRunner({ a: busy }), ['a']);
  assert.equal(held.code, 5);
  assert.match(held.stdout, /^a: locked \(run 1\): job a is already running \(process 42\)$/m);
  const seen: { job: string; request: RunRequest }[] = [];
  const unknown = await standaloneSync(config, fakeRunner({}, seen), ['a', 'nope']);
  assert.equal(unknown.code, 3);
  assert.match(unknown.stderr, /^rbmctl: no job named 'nope'$/m);
  assert.equal(seen.length, 0);
});

/** Runs that last until they are cancelled; the first one to start presses Ctrl-C. */
function runnerUntilCancelled(ctrlC: AbortController): JobRunner {
  const runner = fakeRunner({});
  return {
    ...runner,
    run(job, global, request, runId, hooks) {
      const signal = hooks?.signal;
      ctrlC.abort();
      return new Promise((resolve) => {
        const stop = (): void => void runner.run(job, global, request, runId).then((r) => resolve({ ...r, outcome: 'cancelled', message: 'cancelled by the user' }));
        if (signal?.aborted) stop();
        else signal?.addEventListener('abort', stop);
      });
    },
  };
}

test('a named inactive job still runs when asked for explicitly; Ctrl-C cancels the runs safely', async () => {
  const seen: { job: string; request: RunRequest }[] = [];
  assert.equal((await standaloneSync(config, fakeRunner({}, seen), ['off'])).code, 0);
  assert.deepEqual(seen.map((s) => s.job), ['off']);
  const ctrlC = new AbortController();
  const r = await standaloneSync(config, runnerUntilCancelled(ctrlC), [], ctrlC.signal);
  assert.equal(r.code, 8, r.stdout);
  // a was running when Ctrl-C came: cancelled through its signal; b too, whether it had started or was still queued.
  assert.match(r.stdout, /^a: cancelled \(run 1\): cancelled by the user$/m);
  assert.match(r.stdout, /^b: cancelled \(run 2\): cancelled/m);
  const early = new AbortController();
  early.abort();
  const none: { job: string; request: RunRequest }[] = [];
  const before = await standaloneSync(config, fakeRunner({}, none), [], early.signal);
  assert.equal(before.code, 8, 'Ctrl-C before anything ran: cancelled');
  assert.deepEqual(none, [], 'nothing ran');
});
