// The on_attention hook runner (src/platform/hook-runner.ts) with real processes: the documented variables reach
// the command, a hanging hook (and what it started) is killed after its limit — SIGTERM, then SIGKILL for one that
// ignores it —, a failing hook is reported once until it succeeds again, and its output goes to the log, bounded.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileAppears as fileAt, isAlive, recordingLogger as recorder, type Line } from '../helpers/notification-tests.js';
import { test, type TestContext } from 'node:test';
import { systemClock } from '../../src/platform/clock.js';
import { LineKeeper, MAX_LINE_CHARS, createDetailsLauncher, createHookRunner, type HookCall } from '../../src/platform/hook-runner.js';
import type { Logger } from '../../src/ports.js';
import { FakeClock } from '../helpers/fake-clock.js';

/** Called after each recorded line (waitFor). */
const lineListeners = new Set<() => void>();
const recordingLogger = (lines: Line[]): Logger => recorder(lines, {}, () => {
  for (const listener of lineListeners) listener();
});

/** Resolves once the recording logger got `message`. */
function waitForLine(lines: Line[], message: string): Promise<void> {
  return waitFor(() => lines.some((l) => l.message === message));
}

/** Resolves once `done()` holds, checked after each recorded line. */
function waitFor(done: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    // The details command is unref'd: a ref'd handle (never fired) keeps the test's event loop alive meanwhile.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    const check = (): void => {
      if (!done()) return;
      lineListeners.delete(check);
      clearInterval(keepAlive);
      resolve();
    };
    lineListeners.add(check);
    check();
  });
}

function scratch(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-hook-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function script(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

const EVENT = { RBM_JOB: 'docs', RBM_STATE: 'attention', RBM_MESSAGE: 'docs: approve 12 changes? — The sync stopped…', RBM_HINT: 'rbmctl approve docs', RBM_RUN_ID: '42' };
const call = (argv: string[], env: Record<string, string> = EVENT): HookCall => ({ argv, env, job: 'docs' });

test('the hook gets RBM_JOB, RBM_STATE, RBM_MESSAGE, RBM_HINT and RBM_RUN_ID, its argv as given (no shell), and the service environment', async (t) => {
  const dir = scratch(t);
  const out = join(dir, 'env.txt');
  const hook = script(dir, 'hook', `{ printf 'args=%s|%s\\n' "$1" "$2"; env | grep -E '^(RBM_|HOME=)' | sort; } > "${out}"`);
  const lines: Line[] = [];
  const runner = createHookRunner({ clock: systemClock, logger: recordingLogger(lines), baseEnv: { PATH: process.env.PATH, HOME: '/home/someone' } });
  runner.run(call([hook, 'a b', '$HOME;x']));
  await runner.idle();
  assert.deepEqual(readFileSync(out, 'utf8').split('\n').filter(Boolean), [
    'args=a b|$HOME;x',
    'HOME=/home/someone',
    'RBM_HINT=rbmctl approve docs',
    'RBM_JOB=docs',
    'RBM_MESSAGE=docs: approve 12 changes? — The sync stopped…',
    'RBM_RUN_ID=42',
    'RBM_STATE=attention',
  ]);
  assert.deepEqual(lines.filter((l) => l.level === 'warn' || l.level === 'error'), [], 'a hook that works is not reported');
});

/** Resolves with the text of `dir/name` once it exists (a script renames its marker into place after it set itself up). */
const fileAppears = (dir: string, name: string): Promise<string> => fileAt(join(dir, name));

/** A script line writing the pid of the last background command to `name`, atomically (the test waits for it). */
const markPid = (dir: string, name: string): string => `echo $! > "${dir}/${name}.tmp"; mv "${dir}/${name}.tmp" "${dir}/${name}"`;

test('a hanging hook and what it started are stopped at its limit; one that ignores SIGTERM is killed', async (t) => {
  const dir = scratch(t);
  const lines: Line[] = [];
  // The limit fires when the test says so: only after each script is set up (trap installed, child started).
  const clock = new FakeClock();
  const runner = createHookRunner({ clock, logger: recordingLogger(lines), baseEnv: { PATH: process.env.PATH }, limitMs: 300, killAfterMs: 300 });
  const hangs = script(dir, 'hangs', `sleep 1000 & ${markPid(dir, 'child.pid')}; wait`);
  const stubborn = script(dir, 'stubborn', `trap '' TERM; sleep 1000 & ${markPid(dir, 'stubborn.pid')}; while :; do wait; done`);
  runner.run(call([hangs]));
  const child = Number(await fileAppears(dir, 'child.pid'));
  clock.advance(300);
  await runner.idle();
  // The run ends at EOF on the hook's pipes, which its child inherited: the child is gone by then.
  assert.equal(isAlive(child), false, 'the sleep the hook started is gone too');
  runner.run(call([stubborn]));
  const stubbornChild = Number(await fileAppears(dir, 'stubborn.pid'));
  clock.advance(300);
  assert.equal(isAlive(stubbornChild), true, 'SIGTERM is ignored (the trap is inherited by the sleep)');
  clock.advance(300);
  await runner.idle();
  assert.equal(isAlive(stubbornChild), false, 'SIGKILL stopped the stubborn hook\'s sleep');
  const warnings = lines.filter((l) => l.level === 'warn');
  assert.deepEqual(warnings.map((l) => l.message), [
    'the on_attention command was stopped after 300 ms (its time limit); further failures are not reported until it succeeds',
    'the on_attention command was stopped after 300 ms (its time limit); further failures are not reported until it succeeds',
  ]);
  assert.deepEqual(warnings.map((l) => l.meta.command), [hangs, stubborn]);
});

test('a hook that exits 0 but leaves a child holding its output is stopped at its limit, child included', async (t) => {
  const dir = scratch(t);
  const lines: Line[] = [];
  const clock = new FakeClock();
  const runner = createHookRunner({ clock, logger: recordingLogger(lines), baseEnv: { PATH: process.env.PATH }, limitMs: 300, killAfterMs: 300 });
  const leaves = script(dir, 'leaves', `sleep 1000 & ${markPid(dir, 'left.pid')}; echo started; exit 0`);
  let finished = false;
  runner.run(call([leaves]));
  const idle = runner.idle().then(() => {
    finished = true;
  });
  const left = Number(await fileAppears(dir, 'left.pid'));
  await waitForLine(lines, 'on_attention: started');
  await waitForLine(lines, 'the on_attention command exited; its output is still open (something it started runs on)');
  assert.equal(finished, false, 'the run lasts while something it started holds its output');
  clock.advance(300);
  await idle;
  assert.equal(isAlive(left), false, 'what it left running was stopped with its group');
  assert.deepEqual(lines.filter((l) => l.level === 'warn').map((l) => l.message), [
    'the on_attention command exited but left processes running; they were stopped after 300 ms (its time limit); further failures are not reported until it succeeds',
  ]);
});

test('a hook writing 100 MB without a newline: the runner keeps one bounded line, the hook is never blocked', async (t) => {
  const dir = scratch(t);
  const lines: Line[] = [];
  const runner = createHookRunner({ clock: new FakeClock(), logger: recordingLogger(lines), baseEnv: { PATH: process.env.PATH } });
  const noisy = script(dir, 'noisy', 'head -c 104857600 /dev/zero | tr "\\0" x; echo; echo done >&2; echo after');
  const peakBefore = process.resourceUsage().maxRSS;
  runner.run(call([noisy]));
  await runner.idle();
  const peakGrowthKiB = process.resourceUsage().maxRSS - peakBefore;
  assert.deepEqual(lines.filter((l) => l.level === 'info').map((l) => l.message).sort(), [`on_attention: ${'x'.repeat(MAX_LINE_CHARS)}`, 'on_attention: after', 'on_attention: done'].sort());
  // Loose on purpose: buffering the line (the old readline reader) grows the peak by more than the 100 MB written.
  assert.ok(peakGrowthKiB < 50 * 1024, `peak RSS grew by ${peakGrowthKiB} KiB`);
  assert.deepEqual(lines.filter((l) => l.level === 'warn' || l.level === 'error'), []);
});

test('LineKeeper holds at most maxChars of an unfinished line and nothing once no more lines are wanted', () => {
  const out: string[] = [];
  let wanted = true;
  const keeper = new LineKeeper(4, () => wanted, (l) => out.push(l));
  for (let i = 0; i < 1000; i++) keeper.push('abcdefgh');
  assert.equal(keeper.keptChars(), 4);
  keeper.push('z\r\nsecond\nthi');
  assert.equal(keeper.keptChars(), 3);
  wanted = false;
  keeper.push('rd line');
  keeper.end();
  assert.deepEqual(out, ['abcd', 'seco', 'thi']);
  keeper.push('more');
  assert.equal(keeper.keptChars(), 0);
});

test('a failing hook is reported once until it succeeds again; a missing one is reported; output is logged, bounded', async (t) => {
  const dir = scratch(t);
  const flag = join(dir, 'fail');
  const hook = script(dir, 'hook', `i=0; while [ $i -lt 30 ]; do echo "line $i"; i=$((i+1)); done; [ ! -e "${flag}" ]`);
  const lines: Line[] = [];
  const runner = createHookRunner({ clock: systemClock, logger: recordingLogger(lines), baseEnv: { PATH: process.env.PATH }, maxLines: 5 });
  writeFileSync(flag, '');
  for (let i = 0; i < 3; i++) runner.run(call([hook]));
  await runner.idle();
  rmSync(flag);
  runner.run(call([hook]));
  await runner.idle();
  writeFileSync(flag, '');
  runner.run(call([hook]));
  runner.run(call([join(dir, 'no-such-hook')]));
  await runner.idle();
  const reports = lines.filter((l) => l.level === 'warn' || /works again/.test(l.message)).map((l) => l.message);
  assert.deepEqual(reports, [
    'the on_attention command exited with 1; further failures are not reported until it succeeds',
    'the on_attention command works again',
    'the on_attention command exited with 1; further failures are not reported until it succeeds',
    'the on_attention command could not be started: spawn ' + join(dir, 'no-such-hook') + ' ENOENT; further failures are not reported until it succeeds',
  ]);
  const firstRun = lines.filter((l) => l.message.startsWith('on_attention: ')).slice(0, 6).map((l) => l.message);
  assert.deepEqual(firstRun, ['line 0', 'line 1', 'line 2', 'line 3', 'line 4', '(more output not logged)'].map((l) => `on_attention: ${l}`));
  assert.equal(lines.filter((l) => l.message.startsWith('on_attention: ')).length, 6 * 5, 'five runs, each 5 lines and the note');
  assert.equal(lines.find((l) => l.message.startsWith('on_attention: '))?.meta.job, 'docs');

  // Both streams reach the log.
  const both = script(dir, 'both', 'echo to stdout; echo to stderr >&2');
  const mark = lines.length;
  runner.run(call([both]));
  await runner.idle();
  assert.deepEqual(lines.slice(mark).filter((l) => l.level === 'info').map((l) => l.message).sort(), ['on_attention: to stderr', 'on_attention: to stdout']);
});

test('closing the runner (service shutdown) stops a running hook and its children at once, not at its limit', async (t) => {
  const dir = scratch(t);
  const lines: Line[] = [];
  const runner = createHookRunner({ clock: systemClock, logger: recordingLogger(lines), baseEnv: { PATH: process.env.PATH } });
  const ready = join(dir, 'started');
  const hangs = script(dir, 'hangs', `sleep 1000 & echo $! > "${dir}/child.pid.tmp"; mv "${dir}/child.pid.tmp" "${ready}"; wait`);
  runner.run(call([hangs]));
  runner.run(call([hangs]));
  // Wait until the hook runs (its child's pid file appears by rename), then shut down.
  const watcher = watch(dir);
  await new Promise<void>((resolve) => {
    if (existsSync(ready)) resolve();
    watcher.on('change', () => existsSync(ready) && resolve());
  });
  watcher.close();
  await runner.close();
  assert.equal(isAlive(Number(readFileSync(ready, 'utf8'))), false);
  assert.deepEqual(lines.filter((l) => l.level === 'warn' || l.level === 'error'), [], 'a hook stopped by the shutdown is not a failure');
  assert.deepEqual(lines.filter((l) => l.level === 'info').map((l) => l.message), ['the on_attention command was stopped: the service is stopping'], 'the queued second run never started');
});

test('the details command: under systemd through systemd-run --user (outside the service cgroup), else directly; a failure logged once', async (t) => {
  const dir = scratch(t);
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  // A fake systemd-run and a fake terminal that record their argv (renamed into place: the test waits for the file).
  const recorder = (name: string): string => script(bin, name, `printf '%s\\n' "$@" > "${dir}/${name}.tmp"; mv "${dir}/${name}.tmp" "${dir}/${name}.argv"`);
  recorder('systemd-run');
  const terminal = recorder('fake-term');
  const env = { PATH: `${bin}:${process.env.PATH ?? ''}` };
  const lines: Line[] = [];

  createDetailsLauncher({ ...env, INVOCATION_ID: 'abc123' }, recordingLogger(lines))([terminal, '-e', 'rbmctl', 'status', 'docs']);
  const viaSystemd = (await fileAppears(dir, 'systemd-run.argv')).split('\n').filter(Boolean);
  assert.deepEqual(viaSystemd, ['--user', '--collect', '--quiet', '--', terminal, '-e', 'rbmctl', 'status', 'docs']);
  assert.equal(existsSync(join(dir, 'fake-term.argv')), false, 'systemd-run (the fake) started nothing itself');

  createDetailsLauncher(env, recordingLogger(lines))([terminal, '-e', 'rbmctl', 'status', 'docs']);
  assert.deepEqual((await fileAppears(dir, 'fake-term.argv')).split('\n').filter(Boolean), ['-e', 'rbmctl', 'status', 'docs']);

  const failing = script(bin, 'failing-term', 'exit 3');
  const okTerm = script(bin, 'ok-term', 'exit 0');
  const ended = (): number => lines.filter((l) => l.message === 'the notification details command ended').length;
  const launch = createDetailsLauncher(env, recordingLogger(lines));
  // One launch at a time, each waited for by its (debug) end line, so the order is the test's.
  await waitFor(() => ended() === 2); // the two launches above
  const launchAndWait = async (argv: string[]): Promise<void> => {
    const before = ended();
    launch(argv);
    await waitFor(() => ended() > before);
  };
  await launchAndWait([failing]);
  await launchAndWait([join(bin, 'no-such-terminal')]);
  await launchAndWait([failing]);
  const warnings = (): Line[] => lines.filter((l) => l.level === 'warn');
  assert.deepEqual(warnings().map((l) => l.meta), [{ command: failing, exitCode: 3 }], 'reported once');
  await launchAndWait([okTerm]);
  await launchAndWait([failing]);
  assert.equal(warnings().length, 2, 'reported again after it worked');
  assert.equal(warnings()[0]!.message, 'the notification details command failed; further failures are not reported until it works');
});
