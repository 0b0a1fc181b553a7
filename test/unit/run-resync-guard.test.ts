// The guard's process side with a scripted rclone: which commands it runs, in what order, with which arguments, and
// when it refuses to let the resync start (an incomplete comparison, a failed copy, a cancelled run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createResyncGuard, type ResyncGuardInput } from '../../src/run/resync-guard.js';
import type { Child, ExitStatus, SpawnOptions, Spawner } from '../../src/ports.js';
import { CAPS_160, CAPS_175 } from '../helpers/caps.js';
import { RecordingLogger } from '../helpers/fake-spawner.js';
import { makeGlobal, makeJob } from '../helpers/job.js';

interface Scripted {
  stdout?: string[];
  stderr?: string[];
  exit?: ExitStatus;
  /** Never exits on its own; a signal ends it. */
  hang?: boolean;
}

interface Call {
  args: readonly string[];
  /** The --files-from-raw list as it was when the command ran. */
  list: string | undefined;
  signals: string[];
}

function scriptedRclone(reply: (args: readonly string[]) => Scripted): { spawner: Spawner; calls: Call[] } {
  const calls: Call[] = [];
  const spawner: Spawner = {
    spawn(_command: string, args: readonly string[], options: SpawnOptions = {}): Child {
      const listArg = args.find((a) => a.startsWith('--files-from-raw='));
      const call: Call = { args: [...args], list: listArg ? readFileSync(listArg.slice('--files-from-raw='.length), 'utf8') : undefined, signals: [] };
      calls.push(call);
      const r = reply(args);
      let finish: (s: ExitStatus) => void = () => {};
      const exited = new Promise<ExitStatus>((resolve) => (finish = resolve));
      queueMicrotask(() => {
        for (const line of r.stdout ?? []) options.onLine?.(line, 'stdout');
        for (const line of r.stderr ?? []) options.onLine?.(line, 'stderr');
        if (!r.hang) finish(r.exit ?? { code: 0, signal: null });
      });
      return {
        pid: 1,
        exited,
        kill(signal) {
          call.signals.push(signal);
          finish({ code: null, signal });
        },
      };
    },
  };
  return { spawner, calls };
}

const DIFFERS = ['2026/12/04 21:49:19 NOTICE: sftp://u@127.0.0.1:2222/: 1 differences found', '2026/12/04 21:49:19 NOTICE: sftp://u@127.0.0.1:2222/: 1 errors while checking'];
const T = Date.UTC(2026, 11, 4, 21, 45, 0);

function lsjson(path: string, size: number, iso: string): string[] {
  return ['[', `{"Path":${JSON.stringify(path)},"Name":"x","Size":${size},"ModTime":"${iso}","IsDir":false}`, ']'];
}

function setup(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-guard-unit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const local = join(dir, 'local');
  mkdirSync(join(local, 'sub'), { recursive: true });
  const job = makeJob({ name: 'docs', local, path2: 'box:docs' });
  const input = (extra: Partial<ResyncGuardInput> = {}): ResyncGuardInput => ({
    job, global: makeGlobal(), caps: CAPS_175, resyncArgv: ['bisync', local, 'box:docs', '--filter=- *.partial', '--resync', '--resync-mode=newer'],
    dryRun: false, nowMs: T, scratchDir: join(dir, 'scratch'), ...extra,
  });
  return { dir, local, job, input };
}

test('a remote loser is copied on the remote, then the local winner is copied across; names with spaces survive', async (t) => {
  const s = setup(t);
  writeFileSync(join(s.local, 'sub/my file.txt'), 'local, newer\n');
  const { spawner, calls } = scriptedRclone((args) => {
    if (args[0] === 'check') return { stdout: ['= same.txt', '* sub/my file.txt', '+ only-local.txt'], stderr: DIFFERS, exit: { code: 1, signal: null } };
    if (args[0] === 'lsjson' && args.includes(s.local)) return { stdout: lsjson('sub/my file.txt', 13, '2026-12-04T21:40:00.5Z') };
    if (args[0] === 'lsjson') return { stdout: lsjson('sub/my file.txt', 20, '2026-12-04T21:30:00Z') };
    return {};
  });
  const result = await createResyncGuard({ spawner, logger: new RecordingLogger(), env: {} }).guard(s.input());
  assert.equal(result.ok, true);
  assert.deepEqual(result.kept, [{ path: 'sub/my file.txt', winner: 'path1', copy: 'sub/my file.rbm-conflict-20261204-214500-remote.txt', why: 'newer' }]);
  assert.deepEqual(calls.map((c) => c.args[0]), ['check', 'lsjson', 'lsjson', 'copyto', 'copy']);
  assert.deepEqual(calls[0]?.args.slice(0, 5), ['check', s.local, 'box:docs', '--combined=-', '--filter=- *.partial']);
  assert.ok(calls[0]?.args.includes('--color=NEVER'), '1.75 gets clean text');
  assert.equal(calls[1]?.list, 'sub/my file.txt\n', 'only the differing files are listed, byte for byte');
  assert.deepEqual(calls[3]?.args.slice(0, 3), ['copyto', 'box:docs/sub/my file.txt', 'box:docs/sub/my file.rbm-conflict-20261204-214500-remote.txt']);
  assert.deepEqual(calls[4]?.args.slice(0, 6), ['copy', s.local, 'box:docs', calls[4]?.args[3], '--ignore-times', '--no-traverse']);
  assert.equal(calls[4]?.list, 'sub/my file.txt\n');
});

test('a local loser is copied beside itself with its modtime, never over an existing file; the remote winner comes across', async (t) => {
  const s = setup(t);
  writeFileSync(join(s.local, 'a.txt'), 'local, older\n');
  utimesSync(join(s.local, 'a.txt'), 1_000_000, 1_000_000);
  const { spawner, calls } = scriptedRclone((args) => {
    if (args[0] === 'check') return { stdout: ['* a.txt'], stderr: DIFFERS, exit: { code: 1, signal: null } };
    if (args[0] === 'lsjson' && args.includes(s.local)) return { stdout: lsjson('a.txt', 13, '1970-01-12T13:46:40Z') };
    if (args[0] === 'lsjson') return { stdout: lsjson('a.txt', 30, '2026-12-04T21:30:00Z') };
    return {};
  });
  const result = await createResyncGuard({ spawner, logger: new RecordingLogger(), env: {} }).guard(s.input({ caps: CAPS_160 }));
  assert.equal(result.ok, true);
  // 1.60 resyncs prefer Path1: the remote version loses although it is newer and larger (it is kept, not dropped).
  assert.equal(result.kept[0]?.winner, 'path1');
  assert.ok(!calls[0]?.args.includes('--color=NEVER'), '1.60 has no --color');

  const remoteWins = scriptedRclone((args) => {
    if (args[0] === 'check') return { stdout: ['* a.txt'], stderr: DIFFERS, exit: { code: 1, signal: null } };
    if (args[0] === 'lsjson' && args.includes(s.local)) return { stdout: lsjson('a.txt', 0, '2026-12-04T21:44:00Z') };
    if (args[0] === 'lsjson') return { stdout: lsjson('a.txt', 30, '2026-12-04T21:30:00Z') };
    return {};
  });
  writeFileSync(join(s.local, 'a.txt'), '');
  utimesSync(join(s.local, 'a.txt'), 1_000_000, 1_000_000);
  const second = await createResyncGuard({ spawner: remoteWins.spawner, logger: new RecordingLogger(), env: {} }).guard(s.input({ caps: CAPS_160, nowMs: T + 1000 }));
  assert.equal(second.ok, true);
  const copy = second.kept[0]?.copy ?? '';
  assert.equal(copy, 'a.rbm-conflict-20261204-214501-local.txt', 'the empty local version loses even on 1.60');
  assert.equal(statSync(join(s.local, copy)).mtimeMs, 1_000_000_000, 'the copy keeps the modtime');
  assert.deepEqual(remoteWins.calls.map((c) => c.args[0]), ['check', 'lsjson', 'lsjson', 'copy']);
  assert.deepEqual(remoteWins.calls[3]?.args.slice(0, 3), ['copy', 'box:docs', s.local]);
});

test('an incomplete comparison never lets the resync start', async (t) => {
  const s = setup(t);
  const cases: { name: string; reply: Scripted; outcome: string }[] = [
    { name: 'a ! line', reply: { stdout: ['! broken.bin'], stderr: DIFFERS, exit: { code: 1, signal: null } }, outcome: 'failed' },
    { name: 'more errors than differences', reply: { stdout: ['* a.txt'], stderr: [DIFFERS[0] ?? '', '2026/12/04 21:49:19 NOTICE: x: 2 errors while checking', '2026/12/04 21:49:19 ERROR : sub: error reading source directory: permission denied'], exit: { code: 1, signal: null } }, outcome: 'failed' },
    { name: 'the remote is down', reply: { stderr: ['2026/12/04 21:49:19 Failed to create file system for destination "box:docs": NewFs: couldn\'t connect SSH: dial tcp 127.0.0.1:2222: connect: connection refused'], exit: { code: 1, signal: null } }, outcome: 'retryable' },
  ];
  for (const c of cases) {
    const { spawner, calls } = scriptedRclone((args) => (args[0] === 'check' ? c.reply : {}));
    const result = await createResyncGuard({ spawner, logger: new RecordingLogger(), env: {} }).guard(s.input());
    assert.equal(result.ok, false, c.name);
    if (result.ok) continue;
    assert.equal(result.stop.classification.outcome, c.outcome, c.name);
    const said = c.outcome === 'retryable' ? /^the remote could not be reached; nothing was changed \(the resync was not started: comparing both sides failed\)$/ : /^the resync was not started: comparing both sides failed .*nothing was overwritten$/;
    assert.match(result.stop.classification.message, said, c.name);
    if (c.outcome === 'retryable') assert.match(result.stop.classification.errorText, /connection refused/);
    assert.deepEqual(calls.map((x) => x.args[0]), ['check'], `${c.name}: nothing else ran`);
  }
});

test('without a common hash the comparison is repeated on content (--download)', async (t) => {
  const s = setup(t);
  const { spawner, calls } = scriptedRclone((args) => {
    if (args[0] === 'check' && !args.includes('--download')) return { stderr: ['2026/12/04 21:49:39 ERROR : No common hash found - not using a hash for checks', '2026/12/04 21:49:39 NOTICE: x: 2 hashes could not be checked'], exit: { code: 0, signal: null } };
    return { exit: { code: 0, signal: null } };
  });
  const logger = new RecordingLogger();
  const result = await createResyncGuard({ spawner, logger, env: {} }).guard(s.input());
  assert.equal(result.ok, true);
  assert.deepEqual(calls.map((c) => c.args.includes('--download')), [false, true]);
  assert.ok(logger.messages('warn').some((m) => /no hash type common to both sides/.test(m)));
});

test('a failed copy stops the guard with the versions already kept; a dry run copies nothing; a cancel stops the compare', async (t) => {
  const s = setup(t);
  writeFileSync(join(s.local, 'a.txt'), 'a\n');
  const two = (copyExit: number) =>
    scriptedRclone((args) => {
      if (args[0] === 'check') return { stdout: ['* a.txt', '* b.txt'], stderr: [DIFFERS[0]?.replace('1 diff', '2 diff') ?? '', '2026/12/04 21:49:19 NOTICE: x: 2 errors while checking'], exit: { code: 1, signal: null } };
      if (args[0] === 'lsjson' && args.includes(s.local)) return { stdout: ['[', '{"Path":"a.txt","Size":2,"ModTime":"2026-12-04T21:00:00Z"},', '{"Path":"b.txt","Size":2,"ModTime":"2026-12-04T21:00:00Z"}', ']'] };
      if (args[0] === 'lsjson') return { stdout: ['[', '{"Path":"a.txt","Size":5,"ModTime":"2026-12-04T20:00:00Z"},', '{"Path":"b.txt","Size":5,"ModTime":"2026-12-04T20:00:00Z"}', ']'] };
      if (args[0] === 'copyto' && args[1] === 'box:docs/b.txt') return { stderr: ['2026/12/04 21:49:19 ERROR : b.txt: Failed to copy: permission denied'], exit: { code: copyExit, signal: null } };
      return {};
    });
  const failing = two(1);
  const result = await createResyncGuard({ spawner: failing.spawner, logger: new RecordingLogger(), env: {} }).guard(s.input());
  assert.equal(result.ok, false);
  assert.deepEqual(result.kept.map((k) => k.path), ['a.txt'], 'a.txt was kept before b.txt failed');
  assert.ok(!failing.calls.some((c) => c.args[0] === 'copy'), 'no winner is copied across after a failure');
  if (!result.ok) assert.match(result.stop.classification.message, /keeping the remote version of b\.txt failed \(ERROR : b\.txt: Failed to copy: permission denied\)/);

  const dry = two(0);
  const preview = await createResyncGuard({ spawner: dry.spawner, logger: new RecordingLogger(), env: {} }).guard(s.input({ dryRun: true }));
  assert.equal(preview.ok, true);
  assert.equal(preview.kept.length, 2);
  assert.deepEqual(dry.calls.map((c) => c.args[0]), ['check', 'lsjson', 'lsjson'], 'a dry run only looks');

  const abort = new AbortController();
  const hanging = scriptedRclone(() => ({ hang: true }));
  const pending = createResyncGuard({ spawner: hanging.spawner, logger: new RecordingLogger(), env: {} }).guard(s.input({ signal: abort.signal }));
  abort.abort();
  const stopped = await pending;
  assert.equal(stopped.ok, false);
  if (!stopped.ok) assert.equal(stopped.stop.classification.outcome, 'cancelled');
  assert.deepEqual(hanging.calls[0]?.signals, ['SIGTERM']);
});
