// Issue 15 point 2 end to end: the real service runs the global `on_attention` command for each event (here with no
// notification server on the bus), with RBM_JOB, RBM_STATE, RBM_MESSAGE, RBM_HINT and RBM_RUN_ID; its output reaches
// the log; a hanging one never delays a sync and is stopped with the service. (The config key itself is parsed by
// src/config, from the health part of issue 15.)
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, waitForOutput } from '../helpers/notification-tests.js';
import { test } from 'node:test';
import { BUS_NAME, MANAGER_INTERFACE, OBJECT_PATH } from '../../src/errors.js';
import { HOOK_LIMIT_ENV } from '../../src/platform/hook-runner.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { hashOf, treeHashes, writeFiles } from '../helpers/engine-env.js';
import { run } from '../helpers/procs.js';
import { createServiceEnv, serviceSuite, type ServiceEnv } from '../helpers/service-env.js';

const suite = serviceSuite(['dbus-daemon', 'busctl']);
const { rclone, skip } = suite;

const MTIME = 1_700_000_000;
const NAMES = Array.from({ length: 20 }, (_, i) => `f${String(i + 1).padStart(2, '0')}.txt`);
const content = (name: string): string => `content of ${name}\n`;
const hashes = (names: readonly string[]): Record<string, string> => Object.fromEntries([...names].sort().map((n) => [n, hashOf(content(n))]));
const LIMITS = '    rclone_options:\n      max-delete: 25';

function sides(env: ServiceEnv, job: string): { local: string; remote: string } {
  return { local: join(env.syncRoot, 'local', job), remote: join(env.syncRoot, 'remote', job) };
}

function seed(env: ServiceEnv, job: string): void {
  for (const name of NAMES) {
    writeFiles(sides(env, job).local, { [name]: content(name) });
    utimesSync(join(sides(env, job).local, name), MTIME, MTIME);
  }
}

function rbmctl(env: ServiceEnv, args: string[]) {
  return run(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/bin/rbmctl.ts'), ...args], { cwd: PROJECT_ROOT, env: env.env });
}

async function pendingToken(job: string): Promise<string> {
  const r = await run('busctl', ['--address', suite.bus().address, '--json=short', 'call', BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, 'PendingApproval', 'suu', job, '0', '0']);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { data: [string, number, string[]] }).data[0];
}

test('on_attention runs for each event with the documented variables, with no notification server on the bus', { skip }, async (t) => {
  const env = await createServiceEnv(t, { rclone: rclone!, busAddress: suite.bus().address });
  const hook = join(env.dir, 'hook.sh');
  writeFileSync(hook, `#!/bin/sh\nenv | grep '^RBM_' | sort > "${env.dir}/hook-$RBM_STATE.env"\necho "hook saw $RBM_JOB $RBM_STATE $1"\n`);
  chmodSync(hook, 0o755);
  env.writeConfig(env.configText([{ name: 'docs', extra: LIMITS }], `on_attention: ["${hook}", "--from-config"]`));
  seed(env, 'docs');
  const daemon = env.start();
  await env.notify.waitFor((d) => d === 'READY=1');
  assert.equal((await rbmctl(env, ['sync', 'docs', '--wait'])).code, 0);
  for (const name of NAMES.slice(0, 12)) unlinkSync(join(sides(env, 'docs').local, name));
  const parked = await rbmctl(env, ['sync', 'docs', '--wait']);
  assert.equal(parked.code, 7, parked.stdout + parked.stderr);
  const runId = /\(run (\d+)\)/.exec(parked.stdout)![1];
  await waitForOutput(daemon, (out) => out.includes('on_attention: hook saw docs attention --from-config'));
  const vars = (state: string): string[] => readFileSync(join(env.dir, `hook-${state}.env`), 'utf8').split('\n').filter(Boolean);
  const attention = vars('attention');
  assert.deepEqual(attention.filter((l) => !l.startsWith('RBM_MESSAGE=')), ['RBM_HINT=rbmctl approve docs', 'RBM_JOB=docs', `RBM_RUN_ID=${runId}`, 'RBM_STATE=attention']);
  assert.match(attention.find((l) => l.startsWith('RBM_MESSAGE='))!, /^RBM_MESSAGE=docs: approve 12 changes\? — The sync stopped before deleting 12 files: /);

  const approved = await rbmctl(env, ['approve', 'docs', '--yes', '--token', await pendingToken('docs')]);
  assert.equal(approved.code, 0, approved.stdout + approved.stderr);
  await waitForOutput(daemon, (out) => out.includes('on_attention: hook saw docs ok --from-config'));
  assert.deepEqual(vars('ok').filter((l) => !/^RBM_(RUN_ID|MESSAGE)=/.test(l)), ['RBM_HINT=', 'RBM_JOB=docs', 'RBM_STATE=ok']);
  assert.ok(vars('ok').includes('RBM_MESSAGE=docs: healthy again — The last sync succeeded.'));
  assert.deepEqual(treeHashes(sides(env, 'docs').remote), hashes(NAMES.slice(12)));
  assert.equal(daemon.output().split('\n').filter((l) => l.includes('no desktop notification server answers')).length, 1);
});

test('a hanging on_attention command never delays a sync, and the service stops it when it stops', { skip }, async (t) => {
  const env = await createServiceEnv(t, { rclone: rclone!, busAddress: suite.bus().address });
  const hook = join(env.dir, 'hangs.sh');
  const pidFile = join(env.dir, 'hook.pid');
  const fifo = join(env.dir, 'hook.fifo');
  // The hook waits on a FIFO nobody writes (so it hangs until stopped) with a child of its own; its limit is
  // set far beyond the test (the wiring's test-only variable), so only the service's stop can end it.
  assert.equal((await run('mkfifo', [fifo])).code, 0);
  env.env[HOOK_LIMIT_ENV] = '86400';
  writeFileSync(hook, `#!/bin/sh\nsleep 1000 & echo $! > "${pidFile}"\necho "hanging for $RBM_JOB $RBM_STATE"\nread line < "${fifo}"\n`);
  chmodSync(hook, 0o755);
  env.writeConfig(env.configText([{ name: 'docs', extra: LIMITS }], `on_attention: ["${hook}"]`));
  seed(env, 'docs');
  const daemon = env.start();
  await env.notify.waitFor((d) => d === 'READY=1');
  assert.equal((await rbmctl(env, ['sync', 'docs', '--wait'])).code, 0);
  for (const name of NAMES.slice(0, 12)) unlinkSync(join(sides(env, 'docs').local, name));
  assert.equal((await rbmctl(env, ['sync', 'docs', '--wait'])).code, 7);
  await waitForOutput(daemon, (out) => out.includes('on_attention: hanging for docs attention'));

  // The hook hangs; the approved run goes ahead and finishes meanwhile.
  const approved = await rbmctl(env, ['approve', 'docs', '--yes', '--token', await pendingToken('docs')]);
  assert.equal(approved.code, 0, approved.stdout + approved.stderr);
  assert.deepEqual(treeHashes(sides(env, 'docs').remote), hashes(NAMES.slice(12)));
  const sleeper = Number(readFileSync(pidFile, 'utf8'));
  assert.equal(isAlive(sleeper), true, 'the hook was still running while the sync ran');

  await daemon.stop();
  assert.equal(isAlive(sleeper), false, 'stopping the service stopped the hook and what it started');
  assert.match(daemon.output(), /the on_attention command was stopped: the service is stopping/);
});
