// The on_attention hook runner (src/platform/hook-runner.ts) with real processes: the documented variables reach
// the command, a hanging hook (and what it started) is killed after its limit — SIGTERM, then SIGKILL for one that
// ignores it —, a failing hook is reported once until it succeeds again, and its output goes to the log, bounded.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { systemClock } from '../../src/platform/clock.js';
import { createHookRunner, type HookCall } from '../../src/platform/hook-runner.js';
import type { LogMeta, Logger } from '../../src/ports.js';
import { waitUntil } from '../helpers/hardening.js';

interface Line {
  level: string;
  message: string;
  meta: LogMeta;
}

function recordingLogger(lines: Line[], base: LogMeta = {}): Logger {
  const at = (level: string) => (message: string, meta: LogMeta = {}) => lines.push({ level, message, meta: { ...base, ...meta } });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (meta) => recordingLogger(lines, { ...base, ...meta }) };
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

/** Running (a zombie left to a PID 1 that does not reap counts as gone: it no longer runs). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

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
  assert.deepEqual(lines.filter((l) => l.level !== 'info'), [], 'a hook that works is not reported');
});

test('a hanging hook and what it started are stopped at its limit; one that ignores SIGTERM is killed', async (t) => {
  const dir = scratch(t);
  const lines: Line[] = [];
  const runner = createHookRunner({ clock: systemClock, logger: recordingLogger(lines), baseEnv: { PATH: process.env.PATH }, limitMs: 300, killAfterMs: 300 });
  const hangs = script(dir, 'hangs', `sleep 1000 & echo $! > "${dir}/child.pid"; wait`);
  const stubborn = script(dir, 'stubborn', `trap '' TERM; sleep 1000 & echo $! > "${dir}/stubborn.pid"; while :; do wait; done`);
  runner.run(call([hangs]));
  await runner.idle();
  const child = Number(readFileSync(join(dir, 'child.pid'), 'utf8'));
  // The group was signalled when the hook's own process ended; a loaded machine may run the sleep's death a moment later.
  await waitUntil('the sleep the hook started to be gone too', () => !isAlive(child), 30_000);
  runner.run(call([stubborn]));
  await runner.idle();
  const stubbornChild = Number(readFileSync(join(dir, 'stubborn.pid'), 'utf8'));
  await waitUntil('the stubborn hook\'s sleep to be gone', () => !isAlive(stubbornChild), 30_000);
  const warnings = lines.filter((l) => l.level === 'warn');
  assert.deepEqual(warnings.map((l) => l.message), [
    'the on_attention command was stopped after 300 ms (its time limit); further failures are not reported until it succeeds',
    'the on_attention command was stopped after 300 ms (its time limit); further failures are not reported until it succeeds',
  ]);
  assert.deepEqual(warnings.map((l) => l.meta.command), [hangs, stubborn]);
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
  assert.deepEqual(lines.slice(mark).map((l) => l.message).sort(), ['on_attention: to stderr', 'on_attention: to stdout']);
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
  assert.deepEqual(lines.filter((l) => l.level !== 'info'), [], 'a hook stopped by the shutdown is not a failure');
  assert.deepEqual(lines.map((l) => l.message), ['the on_attention command was stopped: the service is stopping'], 'the queued second run never started');
});
