// Sync on change at the inotify limit (issue 16): the real service started in a user namespace whose
// max_inotify_watches is lower than the watched tree needs (the host's limits stay as they are). The job falls back
// to its schedule: Status() and `rbmctl status JOB` say so and name the sysctl, the log has one warning, and a run
// still syncs both sides (trigger and trees checked).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { connectClient } from '../../src/dbus/client.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { hashOf, treeHashes, writeFiles } from '../helpers/engine-env.js';
import { waitForRun, waitUntil } from '../helpers/hardening.js';
import { run } from '../helpers/procs.js';
import { createServiceEnv, serviceSuite } from '../helpers/service-env.js';

const suite = serviceSuite(['dbus-daemon', 'python3', 'unshare']);
const { rclone, skip } = suite;

test('watch: out of inotify watches → the job runs on its schedule, and status says which sysctl to raise', { skip }, async (t) => {
  const env = await createServiceEnv(t, { rclone: rclone!, busAddress: suite.bus().address });
  const local = join(env.syncRoot, 'local', 'docs');
  const remote = join(env.syncRoot, 'remote', 'docs');
  mkdirSync(remote, { recursive: true });
  const files = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`d${i}/f.txt`, `file ${i}\n`]));
  writeFiles(local, files);
  env.writeConfig(env.configText([{ name: 'docs', extra: '    watch: true' }]));

  // One shell line sets the namespace's own limit (5 watches: the config watcher fits, the 11 folders do not) and
  // then becomes the service: the pid we signal is the service's.
  const script = 'echo 5 > /proc/sys/user/max_inotify_watches && exec "$0" --import tsx "$1" --config "$2" --console-log';
  const child = spawn('unshare', ['-U', '-r', 'sh', '-c', script, process.execPath, join(PROJECT_ROOT, 'src', 'bin', 'daemon.ts'), env.configPath], {
    cwd: PROJECT_ROOT,
    env: env.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(() => child.kill('SIGKILL'));
  await env.notify.waitFor((d) => d === 'READY=1', { timeoutMs: 60_000 });
  const client = await connectClient({ busAddress: suite.bus().address, timeoutMs: 25_000, autoStart: false });
  t.after(() => client.close());

  let job = (await client.status()).jobs[0];
  await waitUntil('the watch to fail', async () => (job = (await client.status()).jobs[0])?.watch === 'failed');
  assert.match(job!.watch_message!, /raise fs\.inotify\.max_user_watches \(sysctl -w fs\.inotify\.max_user_watches=\d+/);
  assert.match(job!.watch_message!, /The job runs on its schedule until then\./);

  const rbmctl = await run(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/bin/rbmctl.ts'), 'status', 'docs'], { cwd: PROJECT_ROOT, env: env.env });
  assert.equal(rbmctl.code, 0, rbmctl.stderr);
  assert.match(rbmctl.stdout, /^watch: +failed: Watching .*docs needs more inotify watches than allowed/m);
  const table = await run(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/bin/rbmctl.ts'), 'status'], { cwd: PROJECT_ROOT, env: env.env });
  assert.match(table.stdout, /^docs +idle \(watch off\) /m);
  assert.match(table.stdout, /^docs: sync on change is off: .*fs\.inotify\.max_user_watches/m);

  // Nothing else broke: a run syncs both sides.
  const [id] = await client.sync(['docs']);
  const done = await waitForRun(client, 'docs', id!);
  assert.equal(done.result, 'success', done.message);
  assert.equal(done.trigger, 'manual');
  const expected = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, hashOf(v)]));
  assert.deepEqual(treeHashes(local), expected);
  assert.deepEqual(treeHashes(remote), expected);
  assert.equal(output.match(/WARN .*sync on change is off/g)?.length, 1, output);

  client.close();
  child.kill('SIGTERM');
  assert.equal(await exited, 0, output);
});
