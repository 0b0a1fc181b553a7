// A reload that changes a job's schedule (or switches it back on) schedules it from the reload on: the new schedule's
// slots between the last run and the reload are not missed runs. Found by the hardening soak (an extra run at reload).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHarness, HOUR, MINUTE } from '../helpers/scheduler-harness.js';
import { makeJob } from '../helpers/scheduler-fixtures.js';

process.env.TZ = 'UTC';
const T0 = Date.UTC(2024, 0, 1, 0, 0, 0);

test('editing a daily 03:00 job to 04:00 at 10:00 does not run it at once; it runs at 04:00 the next day', async () => {
  const h = createHarness({ startMs: T0, autoFinish: true, jobs: [makeJob('daily', { schedule: '0 3 * * *' })] });
  for (let i = 0; i < 10; i++) await h.advance(HOUR);
  assert.equal(h.runs.length, 1, 'ran at 03:00');
  h.scheduler.applyConfig([makeJob('daily', { schedule: '0 4 * * *' })]);
  await h.advance(MINUTE);
  assert.equal(h.runs.length, 1, 'no run at 10:00 for the 04:00 slot that passed before the edit');
  for (let i = 0; i < 18; i++) await h.advance(HOUR);
  assert.equal(h.runs.length, 2);
  assert.equal(h.runs[1]!.atMs, T0 + 28 * HOUR, 'next day at 04:00');
});

test('a schedule edited exactly on one of its new slots does not run that slot; other edits keep the slot history', async () => {
  const h = createHarness({ startMs: T0, autoFinish: true, jobs: [makeJob('a', { schedule: '*/3 * * * *' }), makeJob('b', { schedule: '*/3 * * * *' })] });
  for (let i = 0; i < 8; i++) await h.advance(MINUTE); // 00:08; both ran at :03 and :06
  h.scheduler.applyConfig([makeJob('a', { schedule: '*/2 * * * *' }), makeJob('b', { schedule: '*/3 * * * *', dryRun: true })]);
  await h.advance(MINUTE); // 00:09
  await h.advance(MINUTE); // 00:10
  const at = (job: string): number[] => h.runs.filter((r) => r.job === job).map((r) => (r.atMs - T0) / MINUTE);
  assert.deepEqual(at('a'), [3, 6, 10], 'not at 08 (the moment of the edit), next at 10');
  assert.deepEqual(at('b'), [3, 6, 9], 'a change that is not the schedule keeps the slots');
});

test('a job switched back on runs at its next slot, not for the slots that passed while it was off', async () => {
  const h = createHarness({ startMs: T0, autoFinish: true, jobs: [makeJob('a', { schedule: '*/10 * * * *' })] });
  for (let i = 0; i < 10; i++) await h.advance(MINUTE);
  h.scheduler.applyConfig([makeJob('a', { schedule: '*/10 * * * *', active: false })]);
  for (let i = 0; i < 25; i++) await h.advance(MINUTE); // 00:35
  h.scheduler.applyConfig([makeJob('a', { schedule: '*/10 * * * *', active: true })]);
  await h.advance(MINUTE);
  assert.deepEqual(h.runs.map((r) => (r.atMs - T0) / MINUTE), [10], 'nothing at 00:36 for the 20/30 slots');
  for (let i = 0; i < 4; i++) await h.advance(MINUTE);
  assert.deepEqual(h.runs.map((r) => (r.atMs - T0) / MINUTE), [10, 40]);
});
