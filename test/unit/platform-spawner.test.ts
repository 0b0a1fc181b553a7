// The real spawner and clock adapters, against tiny real processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock, MAX_TIMER_MS } from '../../src/platform/clock.js';
import { getPriority } from 'node:os';
import { createSpawner, lowerPriority, MAX_LINE_BYTES } from '../../src/platform/spawner.js';
import { niceOfStat, threadNices } from '../helpers/proc-nice.js';

const node = process.execPath;

test('lines are split per stream, the last unterminated line is flushed, exit code is reported after close', async () => {
  const lines: string[] = [];
  const child = createSpawner().spawn(node, ['-e', 'process.stdout.write("a\\nb"); process.stderr.write("e1\\n"); process.exitCode = 3'], { onLine: (l, s) => lines.push(`${s}:${l}`) });
  assert.deepEqual(await child.exited, { code: 3, signal: null });
  assert.deepEqual(lines.sort(), ['stderr:e1', 'stdout:a', 'stdout:b']);
});

test('argv is passed without a shell: metacharacters arrive verbatim', async () => {
  const lines: string[] = [];
  const hostile = ['$(echo pwned)', 'a b', '"; rm -rf /', '*'];
  const child = createSpawner().spawn(node, ['-e', 'console.log(JSON.stringify(process.argv.slice(1)))', ...hostile], { onLine: (l) => lines.push(l) });
  await child.exited;
  assert.deepEqual(JSON.parse(lines[0] ?? '[]'), hostile);
});

test('overlong lines are capped; a missing program resolves 127 with the error as a line', async () => {
  const lines: string[] = [];
  const child = createSpawner().spawn(node, ['-e', `process.stdout.write("x".repeat(${MAX_LINE_BYTES * 3}) + "\\nnext\\n")`], { onLine: (l) => lines.push(l) });
  await child.exited;
  assert.equal(lines[0]?.length, MAX_LINE_BYTES);
  assert.equal(lines[1], 'next');
  const errors: string[] = [];
  const missing = createSpawner().spawn('/nonexistent/rclone', [], { onLine: (l) => errors.push(l) });
  assert.deepEqual(await missing.exited, { code: 127, signal: null });
  assert.match(errors[0] ?? '', /ENOENT/);
});

test('kill delivers the signal and the exit reports it', async () => {
  const child = createSpawner().spawn(node, ['-e', 'setInterval(() => {}, 1000)']);
  child.kill('SIGKILL');
  assert.deepEqual(await child.exited, { code: null, signal: 'SIGKILL' });
  child.kill('SIGTERM'); // after exit: a no-op, not a throw
});

test('nice: every thread of the child runs that much below us (capped at 19); without it, at our priority', async (t) => {
  const spawner = createSpawner();
  const niced = spawner.spawn(node, ['-e', 'setInterval(() => {}, 1000)'], { nice: 5, onNiceError: (e) => assert.fail(e) });
  const plain = spawner.spawn(node, ['-e', 'setInterval(() => {}, 1000)']);
  t.after(() => {
    niced.kill('SIGKILL');
    plain.kill('SIGKILL');
  });
  const ours = getPriority();
  const nices = threadNices(niced.pid!);
  assert.ok(nices.size > 0);
  for (const [tid, nice] of nices) assert.equal(nice, Math.min(19, ours + 5), `thread ${tid}`);
  assert.deepEqual([...new Set(threadNices(plain.pid!).values())], [ours]);
  const capped = spawner.spawn(node, ['-e', 'setInterval(() => {}, 1000)'], { nice: 19 + 20 });
  t.after(() => capped.kill('SIGKILL'));
  assert.deepEqual([...new Set(threadNices(capped.pid!).values())], [19]);
  niced.kill('SIGKILL');
  await niced.exited;
  let reported: Error | undefined;
  lowerPriority(niced.pid!, 5, (e) => (reported = e));
  assert.equal(reported, undefined, 'a child that has already exited is not an error');
  let other: unknown;
  lowerPriority(plain.pid!, Number.NaN, (e) => (other = e));
  assert.ok(other instanceof Error, 'any other failure is reported (the runner logs it once)');
  assert.deepEqual([...new Set(threadNices(plain.pid!).values())], [ours], 'and the child keeps running, at our priority');
});

test('the /proc stat reader counts fields after the command name, which may contain spaces and parentheses', () => {
  assert.equal(niceOfStat('42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 7 3 0 12345 0 0'), 7);
});

test('the system clock fires timers, can cancel them, and accepts delays beyond 2^31-1 ms', async (t) => {
  const keepAlive = setInterval(() => {}, 1000); // the clock's timers are unref'd on purpose
  t.after(() => clearInterval(keepAlive));
  const fired = await new Promise<boolean>((resolve) => {
    systemClock.setTimer(5, () => resolve(true));
  });
  assert.equal(fired, true);
  let late = false;
  const far = systemClock.setTimer(MAX_TIMER_MS * 2, () => (late = true));
  const soon = systemClock.setTimer(1, () => (late = true));
  soon.cancel();
  await new Promise((r) => setTimeout(r, 20));
  far.cancel();
  assert.equal(late, false);
  assert.ok(Math.abs(systemClock.now() - Date.now()) < 1000);
});
