// The one runner of rclone helper commands: lines reach the caller, and a cancel, a timeout or the caller's own stop
// ends the child with the chosen signal; the result says whether we stopped it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runHelperCommand } from '../../src/run/helper-command.js';
import { ManualClock, ScriptedSpawner } from '../helpers/fake-spawner.js';

const hangs = () => new ScriptedSpawner(() => ({ hang: true, lines: ['first', 'second'], onSignal: (signal) => ({ code: null, signal }) }));

test('a command that ends by itself: its lines and exit come back, not stopped, no signal sent', async () => {
  const spawner = new ScriptedSpawner(() => ({ lines: ['a', 'b'], exit: { code: 3, signal: null } }));
  const lines: string[] = [];
  const result = await runHelperCommand({ spawner, binary: 'rclone', args: ['lsf', 'x:'], env: { A: '1' }, spawnOptions: { nice: 5 }, onLine: (line) => lines.push(line) });
  assert.deepEqual(result, { exit: { code: 3, signal: null }, stopped: false });
  assert.deepEqual(lines, ['a', 'b']);
  assert.deepEqual(spawner.calls[0]?.args, ['lsf', 'x:']);
  assert.deepEqual(spawner.calls[0]?.env, { A: '1' });
  assert.equal(spawner.calls[0]?.options.nice, 5);
  assert.deepEqual(spawner.calls[0]?.signals, []);
});

test('the caller stops it after its first line: one SIGTERM, stopped', async () => {
  const spawner = hangs();
  const lines: string[] = [];
  const result = await runHelperCommand({ spawner, binary: 'rclone', args: [], onLine: (line, _s, stop) => { lines.push(line); stop(); } });
  assert.deepEqual(result, { exit: { code: null, signal: 'SIGTERM' }, stopped: true });
  assert.deepEqual(spawner.calls[0]?.signals, ['SIGTERM']);
});

test('the run\'s cancel stops it with the chosen signal, also when it was cancelled before the command started', async () => {
  const running = hangs();
  const controller = new AbortController();
  const pending = runHelperCommand({ spawner: running, binary: 'rclone', args: [], signal: controller.signal, stopSignal: 'SIGKILL' });
  controller.abort();
  assert.deepEqual(await pending, { exit: { code: null, signal: 'SIGKILL' }, stopped: true });
  const early = hangs();
  assert.deepEqual(await runHelperCommand({ spawner: early, binary: 'rclone', args: [], signal: controller.signal }), { exit: { code: null, signal: 'SIGTERM' }, stopped: true });
  assert.deepEqual(early.calls[0]?.signals, ['SIGTERM']);
});

test('a timeout stops it; a command that ends in time cancels its timer', async () => {
  const clock = new ManualClock();
  const spawner = hangs();
  const pending = runHelperCommand({ spawner, binary: 'rclone', args: [], stopSignal: 'SIGKILL', timeout: { clock, ms: 1_000 } });
  clock.advance(999);
  assert.deepEqual(spawner.calls[0]?.signals, []);
  clock.advance(1);
  assert.deepEqual(await pending, { exit: { code: null, signal: 'SIGKILL' }, stopped: true });
  const quick = new ScriptedSpawner(() => ({}));
  assert.deepEqual(await runHelperCommand({ spawner: quick, binary: 'rclone', args: [], timeout: { clock, ms: 1_000 } }), { exit: { code: 0, signal: null }, stopped: false });
  clock.advance(5_000);
  assert.deepEqual(quick.calls[0]?.signals, []);
});
