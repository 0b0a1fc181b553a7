// One reload (or one config edit) at a time (src/service/serial-queue.ts): tasks run in call order, never overlap,
// and a failed task neither blocks nor fails the ones after it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSerialQueue } from '../../src/service/serial-queue.js';
import { deferred, flush } from '../helpers/scheduler-fixtures.js';

test('tasks run one at a time in call order; a rejected task rejects its own caller only', async () => {
  const queue = createSerialQueue();
  const log: string[] = [];
  const first = deferred<void>();
  const a = queue(async () => {
    log.push('a starts');
    await first.promise;
    log.push('a ends');
    return 'a';
  });
  const b = queue(() => {
    log.push('b runs');
    return Promise.reject(new Error('b failed'));
  });
  const c = queue(() => {
    log.push('c runs');
    return Promise.resolve('c');
  });
  await flush();
  assert.deepEqual(log, ['a starts'], 'b and c wait for a');
  first.resolve();
  assert.equal(await a, 'a');
  await assert.rejects(b, /b failed/);
  assert.equal(await c, 'c');
  assert.deepEqual(log, ['a starts', 'a ends', 'b runs', 'c runs']);
});

test('two queues do not wait for each other', async () => {
  const reloads = createSerialQueue();
  const edits = createSerialQueue();
  const held = deferred<void>();
  const slow = reloads(() => held.promise);
  assert.equal(await edits(() => Promise.resolve('edited')), 'edited');
  held.resolve();
  await slow;
});
