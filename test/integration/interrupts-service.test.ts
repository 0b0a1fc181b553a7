// Issue 13, kill -9 of the service itself mid-upload (rclone 1.75 here; test/compat/interrupts-service.test.ts runs
// it on 1.60): the run never got a history record, so the next start records it as interrupted before any new run;
// that run removes what was left half-written and converges with no conflict copies (sha256 on both sides).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RunRecord } from '../../src/core/types.js';
import { treeHashes } from '../helpers/engine-env.js';
import { allFiles } from '../helpers/interrupt-scenarios.js';
import { createServiceEnv, serviceSuite, statusMatching, type ServiceEnv } from '../helpers/service-env.js';

const suite = serviceSuite();
const { rclone, skip } = suite;
const globals = 'run_initial_sync_on_startup: true\nshutdown_grace: 1';
const slow = '    rclone_options:\n      bwlimit: "2M"';

async function waitUntil(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  for (let waited = 0; !check(); waited += 50) {
    if (waited > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** PIDs of rclone bisync processes working on `path` (read from /proc). */
function bisyncPids(path: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (argv.includes('bisync') && argv.includes(path)) pids.push(Number(name));
    } catch {
      // gone
    }
  }
  return pids;
}

/** Start the service; its start-up run syncs the job; wait until idle, then stop it (exit 0). */
async function syncOnce(env: ServiceEnv, name: string): Promise<void> {
  env.writeConfig(env.configText([{ name }], globals));
  const mark = env.notify.messages.length;
  const daemon = env.start();
  const running = await env.notify.waitFor(statusMatching(new RegExp(`1 running: ${name}`)), { from: mark });
  await env.notify.waitFor(statusMatching(/^1 job, idle$/), { from: running.index, timeoutMs: 120_000 });
  daemon.child.kill('SIGTERM');
  assert.deepEqual(await daemon.exited, { code: 0, signal: null }, daemon.output());
}

function history(env: ServiceEnv, name: string): RunRecord[] {
  const file = join(env.home, '.local', 'state', 'rclone-bisync-manager', 'jobs', name, 'history.jsonl');
  return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as RunRecord);
}

test('kill -9 of the service mid-upload: recorded as interrupted at the next start, nothing half-written stays, no conflicts', { skip }, async (t) => {
  const env = await createServiceEnv(t, { rclone: rclone!, busAddress: suite.bus().address });
  const local = join(env.syncRoot, 'local', 'big');
  const remote = join(env.syncRoot, 'remote', 'big');
  mkdirSync(local, { recursive: true });
  mkdirSync(remote, { recursive: true });
  writeFileSync(join(local, 'keep.txt'), 'kept\n');
  await syncOnce(env, 'big');

  const stamp = Date.now() / 1000 + 5;
  writeFileSync(join(local, 'large1.bin'), randomBytes(6 * 1024 * 1024));
  mkdirSync(join(local, 'small'));
  for (let i = 0; i < 300; i++) writeFileSync(join(local, 'small', `f${i}.txt`), `small ${i}\n${'y'.repeat(i)}`);
  for (const rel of allFiles(local).filter((f) => f !== 'keep.txt')) utimesSync(join(local, rel), stamp, stamp);
  const expected = treeHashes(local);

  env.writeConfig(env.configText([{ name: 'big', extra: slow }], globals));
  const mark = env.notify.messages.length;
  const daemon = env.start();
  await env.notify.waitFor(statusMatching(/1 running: big/), { from: mark });
  // Bytes of the large file are on the remote (under its real name on 1.60, as a .partial on 1.75).
  await waitUntil('large1.bin to be mid-transfer', () => allFiles(remote).some((f) => f.startsWith('large1.bin') && statSync(join(remote, f)).size > 0)).catch((e: unknown) => {
    throw new Error(`${String(e)}\n${daemon.output()}`);
  });
  process.kill(daemon.pid, 'SIGKILL');
  assert.equal((await daemon.exited).signal, 'SIGKILL');
  // rclone outlives the service until its next log line hits the closed pipe.
  await waitUntil('the orphaned rclone to exit', () => bisyncPids(local).length === 0);
  const before = history(env, 'big');
  assert.notDeepEqual(treeHashes(remote), expected, 'the upload was really cut short');

  await syncOnce(env, 'big');
  const records = history(env, 'big').slice(before.length);
  assert.equal(records[0]?.outcome, 'cancelled', JSON.stringify(records[0]));
  assert.match(records[0]?.message ?? '', /^interrupted: the service stopped while this run was in progress/);
  const last = records[records.length - 1];
  assert.ok(last?.outcome === 'success' || last?.outcome === 'no-changes', JSON.stringify(last));
  assert.deepEqual(last?.conflicts, []);
  assert.deepEqual(treeHashes(local), expected, 'LOCAL holds the intended content');
  assert.deepEqual(treeHashes(remote), expected, 'the remote holds the intended content');
  for (const f of [...allFiles(local), ...allFiles(remote)]) assert.doesNotMatch(f, /\.partial$|\.\.path[12]$|\.conflict\d+$/);
});
