// Approvals cover overwrites end to end: the real service process with a real rclone on a private bus, driven by the
// real rbmctl executable and by busctl. 10 files synced, every local mtime shifted (3 edited): "all files were
// changed" → exit 7; PendingOverwrites lists the 10 (direction Path2) under the token PendingApproval gives;
// rbmctl approve and rbmctl status show them; approving that token syncs and both sides hold the expected contents.
import assert from 'node:assert/strict';
import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BUS_NAME, MANAGER_INTERFACE, OBJECT_PATH } from '../../src/errors.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { hashOf, treeHashes, writeFiles } from '../helpers/engine-env.js';
import { run } from '../helpers/procs.js';
import { createServiceEnv, serviceSuite, statusMatching } from '../helpers/service-env.js';

const suite = serviceSuite(['dbus-daemon', 'busctl', 'python3']);
const { rclone, skip } = suite;

const MTIME = 1_700_000_000;
const SHIFTED = MTIME + 86_400;
const NAMES = Array.from({ length: 10 }, (_, i) => `f${String(i + 1).padStart(2, '0')}.txt`);
const EDITED = ['f02.txt', 'f05.txt', 'f09.txt'];
const content = (name: string, edited = false): string => (edited ? `edited ${name}, longer than before\n` : `content of ${name}\n`);
const hashes = (edited: readonly string[]): Record<string, string> => Object.fromEntries(NAMES.map((n) => [n, hashOf(content(n, edited.includes(n)))]));

test('"all files were changed": the service lists the overwrites on the bus and in rbmctl, and an approval of them syncs', { skip }, async (t) => {
  const env = await createServiceEnv(t, { rclone: rclone!, busAddress: suite.bus().address });
  env.writeConfig(env.configText([{ name: 'docs' }]));
  const local = join(env.syncRoot, 'local', 'docs');
  const remote = join(env.syncRoot, 'remote', 'docs');
  for (const name of NAMES) {
    writeFiles(local, { [name]: content(name) });
    utimesSync(join(local, name), MTIME, MTIME);
  }
  env.start();
  await env.notify.waitFor((d) => d === 'READY=1');
  await env.notify.waitFor(statusMatching(/^1 job, idle$/));
  const rbmctl = (args: string[]) => run(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/bin/rbmctl.ts'), ...args], { cwd: PROJECT_ROOT, env: env.env });
  const busctl = async (method: string): Promise<unknown[]> => {
    const r = await run('busctl', ['--address', suite.bus().address, '--json=short', 'call', BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, method, 'suu', 'docs', '0', '0']);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { data: unknown[] }).data;
  };

  const first = await rbmctl(['sync', 'docs', '--wait']);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.deepEqual(treeHashes(remote), hashes([]));

  for (const name of NAMES) utimesSync(join(local, name), SHIFTED, SHIFTED);
  for (const name of EDITED) {
    writeFiles(local, { [name]: content(name, true) });
    utimesSync(join(local, name), SHIFTED, SHIFTED);
  }
  const parked = await rbmctl(['sync', 'docs', '--wait']);
  assert.equal(parked.code, 7, parked.stdout + parked.stderr);
  assert.deepEqual(treeHashes(remote), hashes([]), 'parked: nothing overwritten');

  const [token, total, deletes] = (await busctl('PendingApproval')) as [string, number, string[]];
  assert.deepEqual([total, deletes], [0, []]);
  const [sameToken, count, overwrites] = (await busctl('PendingOverwrites')) as [string, number, [string, string][]];
  assert.equal(sameToken, token, 'one token covers deletes and overwrites');
  assert.equal(count, 10);
  assert.deepEqual(overwrites, NAMES.map((n) => ['Path2', join(remote, n)]));

  const status = await rbmctl(['status', 'docs']);
  assert.match(status.stdout, /^waiting: +0 deletes and 10 overwrites of existing files wait for approval$/m);
  const listed = await rbmctl(['approve', 'docs']);
  assert.equal(listed.code, 2, 'no terminal and no --yes: rbmctl shows the list and does not approve');
  assert.match(listed.stdout, /^docs: the last run stopped before overwriting 10 existing files with the other side's version:$/m);
  assert.ok(listed.stdout.includes(`  local → remote  ${join(remote, 'f01.txt')}\n`), listed.stdout);
  assert.ok(listed.stdout.includes(`token: ${token}\n`), listed.stdout);

  const approved = await rbmctl(['approve', 'docs', '--yes', '--token', token]);
  assert.equal(approved.code, 0, approved.stdout + approved.stderr);
  assert.match(approved.stdout, /approved \(0 deletes, 10 overwrites\)/);
  assert.deepEqual(treeHashes(local), hashes(EDITED));
  assert.deepEqual(treeHashes(remote), hashes(EDITED), 'the approved overwrites were made');
  assert.equal(((await busctl('PendingOverwrites')) as [string])[0], '', 'nothing waits any more');
});
