// The tree watcher's barrier (src/platform/watch-barrier.ts) on real inotify, its retry on a fake clock: a barrier
// passes with its own file's event (after every earlier event of the process), its files are removed (and those a
// stopped process left), a lost event is made up for by a new barrier, and it never waits forever (no folder to
// write into, close(), an event that never comes).
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync, watch } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
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

/** A barrier on a fake clock (retry after 1000), its folder made and watched by a first pass. */
async function readyBarrier(t: TestContext) {
  const dir = tempDir(t, 'rbm-barrier-');
  const barrierDir = join(dir, 'barrier');
  const clock = new FakeClock();
  const barrier = createEventBarrier({ dir: barrierDir, persistent: true, clock, retryMs: 1000 });
  t.after(() => barrier.close());
  assert.equal(await barrier.pass(() => 'ready'), 'ready');
  return { dir, barrierDir, clock, barrier };
}

/** inotify's queue length: more events than this, unread, and the next ones are dropped (IN_Q_OVERFLOW). */
const MAX_QUEUED = Number(readFileSync('/proc/sys/fs/inotify/max_queued_events', 'utf8').trim());

/** Fill inotify's queue (one per process, shared by every fs.watch) past its length: the next event is lost. */
function overflowQueue(flood: string): void {
  const files = [join(flood, 'a'), join(flood, 'b')];
  // Alternate two files: the kernel merges an event only with an identical one just before it.
  for (let i = 0; i <= MAX_QUEUED + 100; i++) utimesSync(files[i % 2]!, i, i);
}

/** Let the event loop read (and so drain) inotify's queue. */
async function drain(): Promise<void> {
  for (let i = 0; i < 3; i++) await nextTurn();
}

test('a lost barrier event (inotify\'s queue overflowed): a new barrier is written after retryMs and passes the waiting one; after a few tries it gives up', async (t) => {
  const { dir, barrierDir, clock, barrier } = await readyBarrier(t);
  const flood = join(dir, 'flood');
  mkdirSync(flood);
  writeFileSync(join(flood, 'a'), '');
  writeFileSync(join(flood, 'b'), '');
  const floodWatch = watch(flood, () => undefined);
  t.after(() => floodWatch.close());
  overflowQueue(flood);
  let passed = false;
  const waiting = barrier.pass(() => (passed = true));
  await drain();
  assert.equal(passed, false, 'its event was lost');
  clock.advance(1000); // the queue has drained: the retry's event comes
  await waiting;
  assert.equal(passed, true);
  await drain();
  assert.deepEqual(readdirSync(barrierDir), [], 'the lost barrier\'s file is removed too');

  let gaveUp = false;
  overflowQueue(flood);
  const never = barrier.pass(() => (gaveUp = true));
  for (let i = 0; i < 4; i++) {
    await drain();
    overflowQueue(flood);
    clock.advance(1000); // each retry lost too
  }
  await drain();
  assert.equal(gaveUp, false, 'four retries');
  clock.advance(1000);
  await never;
  assert.equal(gaveUp, true, 'the fifth gives up: a waiter is never held forever');
  assert.equal(await barrier.pass(() => 'after giving up'), 'after giving up', 'a fresh watch passes the next barrier');
  await drain();
  assert.deepEqual(readdirSync(barrierDir), [], 'no barrier file is left');
});

test('review finding 5: a barrier folder replaced or removed is watched afresh at the next pass (no retry needed)', async (t) => {
  const { dir, barrierDir, barrier } = await readyBarrier(t); // its clock never advanced: no retry ever fires
  renameSync(barrierDir, join(dir, 'old-barrier'));
  mkdirSync(barrierDir);
  assert.equal(await barrier.pass(() => 'replaced'), 'replaced', 'the new folder\'s event passes it');
  rmSync(barrierDir, { recursive: true });
  rmSync(join(dir, 'old-barrier'), { recursive: true });
  assert.equal(await barrier.pass(() => 'removed'), 'removed');
  assert.deepEqual(readdirSync(barrierDir), [], 'the folder is made again, and its barrier file removed');
  assert.equal(await barrier.pass(() => 'again'), 'again');
});

test('review finding 5: a retry\'s barrier file whose waiter an earlier barrier passed is removed', async (t) => {
  const { barrierDir, clock, barrier } = await readyBarrier(t);
  const slow = barrier.pass(() => 'slow');
  clock.advance(1000); // before its event was read: a retry barrier is written too
  assert.equal(readdirSync(barrierDir).length, 2);
  assert.equal(await slow, 'slow');
  assert.equal(await barrier.pass(() => 'next'), 'next'); // its event comes after the retry's
  assert.deepEqual(readdirSync(barrierDir), [], 'the retry\'s file is gone too');
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
