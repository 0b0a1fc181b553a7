// Path2's hash types (src/run/compare-mode.ts): `rclone backend features` once per Path2 and rclone version, kept in
// the state dir; a failure, a timeout or a cancelled run caches nothing; a local Path2 needs no detection.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachedRemoteHashes, detectRemoteHashes } from '../../src/run/compare-mode.js';
import type { Child, ExitStatus, Spawner } from '../../src/ports.js';
import { CAPS_160, CAPS_175 } from '../helpers/caps.js';
import { ManualClock, RecordingLogger } from '../helpers/fake-spawner.js';
import { makeGlobal, makeJob } from '../helpers/job.js';

const FEATURES = ['{', '\t"Name": "box",', '\t"Hashes": [', '\t\t"md5",', '\t\t"sha1"', '\t],', '\t"Precision": 1000000000', '}'];

type Behaviour = { stdout?: string[]; exit?: ExitStatus; hang?: boolean };

/** Prints `stdout` on stdout and exits, or hangs until SIGKILL. */
function spawnerOf(behaviour: () => Behaviour): Spawner & { calls: (readonly string[])[] } {
  const calls: (readonly string[])[] = [];
  return {
    calls,
    spawn(_command, args, options = {}): Child {
      calls.push(args);
      const b = behaviour();
      let finish: (s: ExitStatus) => void = () => {};
      const exited = new Promise<ExitStatus>((resolve) => (finish = resolve));
      queueMicrotask(() => {
        for (const line of b.stdout ?? []) options.onLine?.(line, 'stdout');
        if (!b.hang) finish(b.exit ?? { code: 0, signal: null });
      });
      return { pid: 1, exited, kill: (signal) => void (signal === 'SIGKILL' && finish({ code: null, signal })) };
    },
  };
}

function stateDirFor(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-hashes-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const job = makeJob({ rcloneRemote: 'box', path2: 'box:docs', rcloneOptions: { low_level_retries: 1 } });
const global = makeGlobal({ rcloneBinary: '/usr/bin/rclone' });
const input = (caps = CAPS_175) => ({ job, global, caps, env: {}, log: new RecordingLogger() });

test('detected once per Path2 and rclone version, with the job\'s rclone options, then read from the state dir', async (t) => {
  const stateDir = stateDirFor(t);
  const spawner = spawnerOf(() => ({ stdout: FEATURES }));
  const deps = { spawner, clock: new ManualClock(), stateDir };
  assert.deepEqual(await detectRemoteHashes(deps, input()), ['md5', 'sha1']);
  assert.deepEqual(spawner.calls, [['backend', 'features', 'box:docs', '--low-level-retries=1']]);
  assert.deepEqual(await detectRemoteHashes(deps, input()), ['md5', 'sha1']);
  assert.equal(spawner.calls.length, 1, 'the second time from the cache');
  assert.deepEqual(cachedRemoteHashes(stateDir, job, CAPS_175), ['md5', 'sha1']);
  assert.equal(cachedRemoteHashes(stateDir, job, CAPS_160), undefined, 'another rclone version detects again');
  assert.equal(cachedRemoteHashes(stateDir, makeJob({ rcloneRemote: '', path2: '/mnt/b' }), CAPS_175), 'all');
});

test('a failure or a timeout caches nothing; a refusal is retried without the job\'s options; the next run detects again', async (t) => {
  const stateDir = stateDirFor(t);
  let next: Behaviour = { exit: { code: 1, signal: null }, stdout: ['Failed to create file system'] };
  const spawner = spawnerOf(() => next);
  const clock = new ManualClock();
  const deps = { spawner, clock, stateDir };
  assert.equal(await detectRemoteHashes(deps, input()), undefined);
  assert.deepEqual(spawner.calls, [['backend', 'features', 'box:docs', '--low-level-retries=1'], ['backend', 'features', 'box:docs']], 'refused: asked again without the job\'s options');
  assert.equal(cachedRemoteHashes(stateDir, job, CAPS_175), undefined);
  next = { hang: true };
  const pending = detectRemoteHashes(deps, input());
  await new Promise((resolve) => setImmediate(resolve));
  clock.advance(60_000);
  assert.equal(await pending, undefined);
  assert.equal(spawner.calls.length, 3, 'a timeout is not retried');
  next = { stdout: FEATURES };
  assert.deepEqual(await detectRemoteHashes(deps, input()), ['md5', 'sha1']);
  assert.equal(spawner.calls.length, 4);
});

test('a cancelled run stops the detection at once', async (t) => {
  const spawner = spawnerOf(() => ({ hang: true }));
  const controller = new AbortController();
  const pending = detectRemoteHashes({ spawner, clock: new ManualClock(), stateDir: stateDirFor(t) }, { ...input(), signal: controller.signal });
  await new Promise((resolve) => setImmediate(resolve));
  controller.abort();
  assert.equal(await pending, undefined);
});
