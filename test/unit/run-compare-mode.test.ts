// Path2's hash types (src/run/compare-mode.ts): `rclone backend features` once per Path2 and rclone version, kept in
// the state dir; a failure, a timeout or a cancelled run caches nothing; a local Path2 needs no detection.
// And the modtime facts: where both sides keep fine modtimes, no checksums (rclone's precision asked once per path,
// the local file systems looked at on every run, options that widen rclone's modtime window respected).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachedRemoteHashes, checksumSupportFor, detectRemoteHashes, localFilesystemsFine, remoteHashesCachePath, type DirTimes } from '../../src/run/compare-mode.js';
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

// ---------------------------------------------------------------- modtimes fine enough to leave checksums out

const SECOND_NS = 1_733_000_000n * 1_000_000_000n;
const FINE: DirTimes = { mtimeNs: SECOND_NS + 123_456_789n, ctimeNs: SECOND_NS + 987_654_321n };
const WHOLE_SECONDS: DirTimes = { mtimeNs: SECOND_NS, ctimeNs: SECOND_NS + 3_000_000_000n };
const featuresOf = (name: string, precisionNs: number): string[] => [`{"Name": "${name}", "Hashes": ["md5", "sha1"], "Precision": ${precisionNs}}`];
/** /proc/self/mountinfo lines for these mount points (field 5). */
const mountInfo = (...points: string[]): string => points.map((p, i) => `${20 + i} 1 8:${i} / ${p} rw,relatime shared:${i} - ext4 /dev/sda${i} rw`).join('\n');

/** Deps whose local file systems show `timesOf(dir)` and whose mount table lists `mounts`. */
function modtimeDeps(t: TestContext, reply: (args: readonly string[]) => Behaviour, timesOf: (dir: string) => DirTimes = () => FINE, mounts = mountInfo('/')) {
  const spawner = spawnerOf(() => reply(spawner.calls[spawner.calls.length - 1] ?? []));
  return { spawner, clock: new ManualClock(), stateDir: stateDirFor(t), readMountInfo: () => mounts, statTimes: timesOf };
}

const localPair = makeJob({ rcloneRemote: '', local: '/data/a', path2: '/data/b' });
const supportInput = (j = localPair, env: Record<string, string | undefined> = {}) => ({ job: j, global, caps: CAPS_175, operation: 'bisync' as const, env, log: new RecordingLogger() });

test('local↔local on fine file systems: no checksums; rclone asked once for the local precision, then the cache', async (t) => {
  const deps = modtimeDeps(t, () => ({ stdout: featuresOf('local', 1) }));
  assert.deepEqual(await checksumSupportFor(deps, supportInput()), { ok: false, reason: 'fine-modtimes' });
  assert.deepEqual(deps.spawner.calls, [['backend', 'features', '/data/a']]);
  assert.deepEqual(await checksumSupportFor(deps, supportInput()), { ok: false, reason: 'fine-modtimes' });
  assert.equal(deps.spawner.calls.length, 1, 'the second run from the cache');
});

test('local↔local keeps checksums where a local file system keeps coarse times, rclone\'s precision is coarse, or an option widens the window', async (t) => {
  const precise = () => ({ stdout: featuresOf('local', 1) });
  const coarseB = modtimeDeps(t, precise, (dir) => (dir === '/data/b' ? WHOLE_SECONDS : FINE));
  assert.deepEqual(await checksumSupportFor(coarseB, supportInput()), { ok: true }, 'Path2 on a file system with whole seconds');
  assert.equal(coarseB.spawner.calls.length, 0, 'nothing to ask rclone then');
  const nested = modtimeDeps(t, precise, (dir) => (dir === '/data/a/usb' ? { mtimeNs: SECOND_NS + 10_000_000n, ctimeNs: SECOND_NS } : FINE), mountInfo('/', '/data/a/usb'));
  assert.deepEqual(await checksumSupportFor(nested, supportInput()), { ok: true }, 'a FAT/exFAT stick mounted inside the root');
  const noTable = { ...modtimeDeps(t, precise), readMountInfo: (): string => { throw new Error('no /proc'); } };
  assert.deepEqual(await checksumSupportFor(noTable, supportInput()), { ok: true }, 'in doubt: checksums');
  const tempOnCoarse = modtimeDeps(t, () => ({ stdout: featuresOf('local', 1_000_000_000) }));
  assert.deepEqual(await checksumSupportFor(tempOnCoarse, supportInput()), { ok: true }, 'rclone itself compares to the second');
  const widened = modtimeDeps(t, precise);
  assert.deepEqual(await checksumSupportFor(widened, supportInput(makeJob({ ...localPair, rcloneOptions: { modify_window: '2s' } }))), { ok: true });
  assert.deepEqual(await checksumSupportFor(widened, supportInput(localPair, { RCLONE_MODIFY_WINDOW: '2s' })), { ok: true }, 'from rclone\'s environment too');
  assert.deepEqual(await checksumSupportFor(widened, supportInput(makeJob({ ...localPair, bisyncOptions: { size_only: true } }))), { ok: true });
  assert.equal(widened.spawner.calls.length, 0);
});

test('a remote Path2: a 1 s remote keeps checksums without asking about the local side; a fine one leaves them out', async (t) => {
  const sftp = makeJob({ rcloneRemote: 'box', local: '/data/a', path2: 'box:docs' });
  const coarse = modtimeDeps(t, () => ({ stdout: featuresOf('box', 1_000_000_000) }));
  assert.deepEqual(await checksumSupportFor(coarse, supportInput(sftp)), { ok: true });
  assert.deepEqual(coarse.spawner.calls, [['backend', 'features', 'box:docs']]);
  const fine = modtimeDeps(t, (args) => ({ stdout: featuresOf(args[2] === 'box:docs' ? 'box' : 'local', 1) }));
  assert.deepEqual(await checksumSupportFor(fine, supportInput(sftp)), { ok: false, reason: 'fine-modtimes' });
  assert.deepEqual(fine.spawner.calls, [['backend', 'features', 'box:docs'], ['backend', 'features', '/data/a']]);
});

test('a hash record kept before precisions were: asked again once, then kept with the precision', async (t) => {
  const sftp = makeJob({ rcloneRemote: 'box', local: '/data/a', path2: 'box:docs' });
  const deps = modtimeDeps(t, () => ({ stdout: featuresOf('box', 1_000_000_000) }));
  writeFileSync(remoteHashesCachePath(deps.stateDir), JSON.stringify({ format: 1, records: [{ rclone: CAPS_175.version, path2: 'box:docs', hashes: ['md5'] }] }));
  assert.deepEqual(await detectRemoteHashes(deps, supportInput(sftp)), ['md5'], 'the hashes alone need no new detection');
  assert.equal(deps.spawner.calls.length, 0);
  assert.deepEqual(await checksumSupportFor(deps, supportInput(sftp)), { ok: true });
  assert.deepEqual(await checksumSupportFor(deps, supportInput(sftp)), { ok: true });
  assert.equal(deps.spawner.calls.length, 1);
  const kept = JSON.parse(readFileSync(remoteHashesCachePath(deps.stateDir), 'utf8')) as { records: { precisionNs?: number }[] };
  assert.deepEqual(kept.records.map((r) => r.precisionNs), [1_000_000_000]);
});

test('a local root that cannot be looked at is not fine (the real stat)', (t) => {
  assert.equal(localFilesystemsFine([join(stateDirFor(t), 'missing')]), false);
});
