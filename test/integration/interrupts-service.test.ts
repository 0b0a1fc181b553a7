// Issue 13 through the real service (rclone 1.75 here; test/compat/interrupts-service.test.ts runs it on 1.60),
// local↔local and local↔sftp on 127.0.0.1: the service is stopped (SIGTERM, shutdown_grace 1 s: a logout during a
// long upload) or killed (kill -9) mid-upload. A killed service's run never got a history record, so the next start
// records it as interrupted before any new run; that run removes what was left half-written and converges with no
// conflict copies (sha256 on both sides).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { RunRecord } from '../../src/run/types.js';
import { treeHashes } from '../helpers/engine-env.js';
import { allFiles, type RemoteKind } from '../helpers/interrupt-scenarios.js';
import { startSftpServer } from '../helpers/sftp-server.js';
import { createServiceEnv, serviceSuite, statusMatching, type ServiceEnv } from '../helpers/service-env.js';

const suite = serviceSuite();
const { rclone, skip } = suite;
const globals = 'run_initial_sync_on_startup: true\nshutdown_grace: 1';
const slow = '    rclone_options:\n      bwlimit: "2M"\n      low_level_retries: 1';

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

interface Setup {
  env: ServiceEnv;
  local: string;
  /** The remote side's directory on disk. */
  remote: string;
  config(extra?: string): string;
}

async function setup(t: TestContext, kind: RemoteKind, name: string): Promise<Setup> {
  const env = await createServiceEnv(t, { rclone: rclone!, busAddress: suite.bus().address });
  const local = join(env.syncRoot, 'local', name);
  mkdirSync(local, { recursive: true });
  if (kind === 'local') {
    const remote = join(env.syncRoot, 'remote', name);
    mkdirSync(remote, { recursive: true });
    return { env, local, remote, config: (extra) => env.configText([{ name, ...(extra ? { extra } : {}) }], globals) };
  }
  const server = await startSftpServer(t, rclone!, env.dir);
  copyFileSync(server.env.RCLONE_CONFIG!, env.env.RCLONE_CONFIG!); // the service's rclone config names the server
  const remote = join(server.root, 'share');
  mkdirSync(remote, { recursive: true });
  const config = (extra?: string): string =>
    env
      .configText([{ name, ...(extra ? { extra } : {}) }], globals)
      .replace('rclone_remote: ""', `rclone_remote: ${server.name}`)
      .replace(`remote: ${join(env.syncRoot, 'remote', name)}`, 'remote: share');
  return { env, local, remote, config };
}

/** Start the service; its start-up run syncs the job; wait until idle, then stop it (exit 0). */
async function syncOnce(s: Setup, name: string): Promise<void> {
  const { env } = s;
  env.writeConfig(s.config());
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

for (const kind of ['local', 'sftp'] as RemoteKind[]) {
  for (const how of ['SIGTERM', 'SIGKILL'] as const) {
    const what = how === 'SIGKILL' ? 'kill -9 of the service' : 'the service stopped (SIGTERM, grace 1 s)';
    test(`local↔${kind}: ${what} mid-upload leaves nothing half-done; the next start converges with no conflicts`, { skip }, async (t) => {
      const s = await setup(t, kind, 'big');
      const { env, local, remote } = s;
      writeFileSync(join(local, 'keep.txt'), 'kept\n');
      await syncOnce(s, 'big');

      const stamp = Date.now() / 1000 + 5;
      writeFileSync(join(local, 'large1.bin'), randomBytes(6 * 1024 * 1024));
      mkdirSync(join(local, 'small'));
      const small = kind === 'sftp' ? 60 : 300; // over sftp each file costs a round of ssh requests
      for (let i = 0; i < small; i++) writeFileSync(join(local, 'small', `f${i}.txt`), `small ${i}\n${'y'.repeat(i)}`);
      for (const rel of allFiles(local).filter((f) => f !== 'keep.txt')) utimesSync(join(local, rel), stamp, stamp);
      const expected = treeHashes(local);

      env.writeConfig(s.config(slow));
      const mark = env.notify.messages.length;
      const daemon = env.start();
      await env.notify.waitFor(statusMatching(/1 running: big/), { from: mark });
      // Bytes of the large file are on the remote (under its real name on 1.60, as a .partial on 1.75).
      await waitUntil('large1.bin to be mid-transfer', () => allFiles(remote).some((f) => f.startsWith('large1.bin') && statSync(join(remote, f)).size > 0)).catch((e: unknown) => {
        throw new Error(`${String(e)}\n${daemon.output()}`);
      });
      process.kill(daemon.pid, how);
      const exit = await daemon.exited;
      if (how === 'SIGKILL') assert.equal(exit.signal, 'SIGKILL');
      else assert.deepEqual(exit, { code: 0, signal: null }, daemon.output());
      // A killed service's rclone runs on until its next log line hits the closed pipe.
      await waitUntil('the rclone of the stopped service to exit', () => bisyncPids(local).length === 0);
      if (how === 'SIGKILL') assert.notDeepEqual(treeHashes(remote), expected, 'the upload was really cut short');
      const before = history(env, 'big');
      const stoppedRun = before[before.length - 1];

      await syncOnce(s, 'big');
      const records = history(env, 'big').slice(before.length);
      if (how === 'SIGKILL') {
        assert.equal(records[0]?.outcome, 'cancelled', JSON.stringify(records[0]));
        assert.match(records[0]?.message ?? '', /^interrupted: the service stopped while this run was in progress/);
      } else {
        // The service recorded its own stop: as rclone ended it (1.60 killed, 1.75 wrapped up or cancelled).
        assert.ok(stoppedRun !== undefined && ['cancelled', 'success', 'conflicts'].includes(stoppedRun.outcome), JSON.stringify(stoppedRun));
        assert.deepEqual(stoppedRun?.conflicts, []);
      }
      const last = records[records.length - 1];
      assert.ok(last?.outcome === 'success' || last?.outcome === 'no-changes', JSON.stringify(last));
      for (const r of records) assert.deepEqual(r.conflicts, [], JSON.stringify(r));
      assert.deepEqual(treeHashes(local), expected, 'LOCAL holds the intended content');
      assert.deepEqual(treeHashes(remote), expected, 'the remote holds the intended content');
      for (const f of [...allFiles(local), ...allFiles(remote)]) assert.doesNotMatch(f, /\.partial$|\.\.path[12]$|\.conflict\d+$/);
    });
  }
}
