// The tree watcher's barrier (src/platform/watch-barrier.ts) on real inotify, its retry on a fake clock: a barrier
// passes with its own file's event (after every earlier event of the process), its files are removed (and those a
// stopped process left), a lost event is made up for by a new barrier, and it never waits forever (no folder to
// write into, close(), an event that never comes).
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, renameSync, writeFileSync, watch } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createEventBarrier } from '../../src/platform/watch-barrier.js';
import { systemClock } from '../../src/platform/clock.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/engine-env.js';

test('a barrier passes after every event that happened before it, and removes its files (and stale ones)', async (t) => {
  const dir = tempDir(t, 'rbm-barrier-');
  const barrierDir = join(dir, 'barrier');
  mkdirSync(barrierDir);
  writeFileSync(join(barrierDir, 'barrier-7'), ''); // left by a process that stopped mid-barrier
  const seen: string[] = [];
  mkdirSync(join(dir, 'tree'));
  const other = watch(join(dir, 'tree'), (_event, name) => seen.push(String(name)));
  t.after(() => other.close());
  const barrier = createEventBarrier({ dir: barrierDir, persistent: true, clock: systemClock });
  t.after(() => barrier.close());
  for (let i = 0; i < 100; i++) writeFileSync(join(dir, 'tree', `f${i}`), 'x');
  const atEvent = await barrier.pass(() => new Set(seen).size);
  assert.equal(atEvent, 100, 'every earlier event was dispatched when the barrier passed');
  assert.deepEqual(readdirSync(barrierDir), [], 'its own file and the stale one are gone');
  assert.equal(await barrier.pass(() => 'again'), 'again', 'a second barrier passes too');
});

test('a lost barrier event: a new barrier is written after retryMs and passes the waiting one; after a few tries it gives up', async (t) => {
  const dir = tempDir(t, 'rbm-barrier-');
  const barrierDir = join(dir, 'barrier');
  const clock = new FakeClock();
  const barrier = createEventBarrier({ dir: barrierDir, persistent: true, clock, retryMs: 1000 });
  t.after(() => barrier.close());
  assert.equal(await barrier.pass(() => 'ready'), 'ready'); // the folder is made and watched
  // The watched folder moves away and another takes its place: barrier files land where no watch sees them (lost).
  renameSync(barrierDir, join(dir, 'watched'));
  mkdirSync(barrierDir);
  let passed = false;
  const waiting = barrier.pass(() => (passed = true));
  clock.advance(1000); // a retry, lost too
  assert.deepEqual(readdirSync(barrierDir).sort(), ['barrier-2', 'barrier-3']);
  assert.equal(passed, false);
  // The watched folder comes back: the next retry's event is seen and passes the waiter.
  renameSync(barrierDir, join(dir, 'lost'));
  renameSync(join(dir, 'watched'), barrierDir);
  clock.advance(1000);
  await waiting;
  assert.equal(passed, true);

  renameSync(barrierDir, join(dir, 'watched-again'));
  mkdirSync(barrierDir);
  let gaveUp = false;
  const never = barrier.pass(() => (gaveUp = true));
  for (let i = 0; i < 4; i++) clock.advance(1000);
  assert.equal(gaveUp, false, 'four retries');
  clock.advance(1000);
  await never;
  assert.equal(gaveUp, true, 'the fifth gives up: a waiter is never held forever');
});

test('no folder to write into, or close(): a barrier resolves at once', async (t) => {
  const dir = tempDir(t, 'rbm-barrier-');
  writeFileSync(join(dir, 'a-file'), '');
  const impossible = createEventBarrier({ dir: join(dir, 'a-file', 'barrier'), persistent: true, clock: systemClock });
  assert.equal(await impossible.pass(() => 'at once'), 'at once');
  impossible.close();
  const clock = new FakeClock();
  const closing = createEventBarrier({ dir: join(dir, 'b'), persistent: true, clock });
  await closing.pass(() => undefined);
  renameSync(join(dir, 'b'), join(dir, 'b-watched'));
  mkdirSync(join(dir, 'b'));
  const waiting = closing.pass(() => 'released by close');
  closing.close();
  assert.equal(await waiting, 'released by close');
  assert.equal(await closing.pass(() => 'after close'), 'after close');
});
