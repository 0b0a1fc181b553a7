// A state directory that cannot be written (read-only, full): the run id cannot be recorded. Sync must get a named
// StateError, and a scheduled slot (no caller to answer) must be logged and skipped, never crash the process.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createJobRunner } from '../../src/run/runner.js';
import { runIdPath } from '../../src/state/paths.js';
import { RbmError } from '../../src/errors.js';
import { createScheduler } from '../../src/scheduler/scheduler.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { ScriptedSpawner, RecordingLogger } from '../helpers/fake-spawner.js';
import { CAPS_175 } from '../helpers/caps.js';
import { deferred, makeJob, makeRecord, makeState } from '../helpers/scheduler-fixtures.js';

process.env.TZ = 'UTC';

test('the runner names an unwritable run-id file a StateError (with what to do), not an internal error', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-state-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const runner = createJobRunner({ spawner: new ScriptedSpawner(() => ({})), clock: new FakeClock(), logger: new RecordingLogger(), stateDir: dir, probeCaps: () => Promise.resolve(CAPS_175) });
  assert.equal(runner.nextRunId(), 1);
  // A directory where the file should be: the atomic rename fails whatever our privileges (root ignores modes).
  rmSync(runIdPath(dir));
  mkdirSync(join(runIdPath(dir), 'blocker'), { recursive: true });
  assert.throws(() => runner.nextRunId(), (e: unknown) => {
    assert.ok(e instanceof RbmError);
    assert.equal(e.code, 'StateError');
    assert.match(e.message, /cannot record the run id/);
    assert.match(e.hint ?? '', /writable/);
    return true;
  });
  rmSync(runIdPath(dir), { recursive: true });
  assert.equal(runner.nextRunId(), 2, 'ids stay monotonic once the directory is writable again');
});

test('a scheduled slot whose run id cannot be allocated is logged and skipped; the next slot runs', async () => {
  const clock = new FakeClock(Date.UTC(2024, 0, 1, 0, 0, 30));
  const logger = new RecordingLogger();
  let broken = true;
  let id = 0;
  const started: number[] = [];
  const scheduler = createScheduler({
    clock,
    logger,
    maxParallel: 1,
    nextRunId: () => {
      if (broken) throw new RbmError('StateError', 'cannot record the run id: read-only file system');
      return ++id;
    },
    readState: () => makeState(),
    startRun: (job, request, runId) => {
      started.push(runId);
      const d = deferred<ReturnType<typeof makeRecord>>();
      d.resolve(makeRecord(job.name, runId, request, clock.now()));
      return d.promise;
    },
  });
  scheduler.applyConfig([makeJob('tick', { schedule: '* * * * *' })]);
  scheduler.start();
  assert.doesNotThrow(() => clock.advance(60_000), 'the timer callback does not throw');
  assert.deepEqual(started, []);
  assert.ok(logger.messages('error').some((m) => /cannot queue the scheduled run/.test(m)));
  assert.equal(scheduler.info('tick')?.activity, 'idle');
  broken = false;
  clock.advance(60_000);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, [1], 'the next slot runs once the state can be written');
});
