// A job locked out for real (rclone's listings gone), then asked to sync through the service and without it: the
// refusal is decided once (src/api/job-attention.ts), so both paths print the same words and the same next step with
// the job's name, exit 6, and change no file. Used by test/integration and test/compat (both rclone versions).
import assert from 'node:assert/strict';
import { rmSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { PROJECT_ROOT } from '../../src/version.js';
import { jobPaths } from '../../src/state/paths.js';
import { hashOf, treeHashes, writeFiles } from './engine-env.js';
import { run } from './procs.js';
import { createServiceEnv, statusMatching, type Suite } from './service-env.js';

const MTIME = 1_700_000_000;
const FILES: Record<string, string> = { 'a.txt': 'alpha\n', 'b.txt': 'bravo\n', 'sub/c.txt': 'charlie\n' };
const hashes = (): Record<string, string> => Object.fromEntries(Object.entries(FILES).map(([name, text]) => [name, hashOf(text)]));

export async function lockoutRefusedEverywhere(t: TestContext, suite: Suite): Promise<void> {
  const env = await createServiceEnv(t, { rclone: suite.rclone!, busAddress: suite.bus().address });
  env.writeConfig(env.configText([{ name: 'pair' }]));
  const local = join(env.syncRoot, 'local', 'pair');
  const remote = join(env.syncRoot, 'remote', 'pair');
  writeFiles(local, FILES);
  for (const name of Object.keys(FILES)) utimesSync(join(local, name), MTIME, MTIME);
  const rbmctl = (args: string[]) => run(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/bin/rbmctl.ts'), ...args], { cwd: PROJECT_ROOT, env: env.env });
  const assertTrees = (what: string): void => {
    assert.deepEqual(treeHashes(local), hashes(), `local: ${what}`);
    assert.deepEqual(treeHashes(remote), hashes(), `remote: ${what}`);
  };

  const daemon = env.start();
  await env.notify.waitFor((d) => d === 'READY=1');
  const first = await rbmctl(['sync', 'pair', '--wait']);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assertTrees('the first sync copied every file');

  // A lockout nothing heals: rclone's listings are gone, and with them the --recover backup.
  rmSync(jobPaths(join(env.home, '.local', 'state', 'rclone-bisync-manager'), 'pair').workdir, { recursive: true, force: true });
  const lockout = await rbmctl(['sync', 'pair', '--wait']);
  assert.equal(lockout.code, 6, lockout.stdout + lockout.stderr);
  assert.match(lockout.stdout, /^pair: needs-resync \(run \d+\): bisync is locked out: no trusted listings were found$/m);
  await env.notify.waitFor(statusMatching(/^1 job, idle, needs attention: pair$/));
  const status = await rbmctl(['status', 'pair', '--json']);
  assert.equal(status.code, 13, `a job that needs a resync needs attention (EXIT_JOBS_NEED_ATTENTION): ${status.stderr}`);
  const job = JSON.parse(status.stdout) as { state: string; next_run_usec: number; health: string };
  assert.deepEqual([job.state, Number(job.next_run_usec)], ['needs-resync', 0], 'the job is off its schedule until a resync');
  assert.equal(job.health, 'attention');

  const refusal = "rbmctl: job 'pair' needs a resync: bisync is locked out: no trusted listings were found\nCheck both sides, then run: rbmctl sync pair --resync\n";
  const viaService = await rbmctl(['sync', 'pair', '--wait']);
  assert.equal(viaService.code, 6, viaService.stdout + viaService.stderr);
  assert.equal(viaService.stderr, refusal);

  await daemon.stop();
  const standalone = await rbmctl(['--config', env.configPath, 'sync', '--standalone', 'pair']);
  assert.equal(standalone.code, 6, standalone.stdout + standalone.stderr);
  // Without the service, rbmctl builds it in-process and asks the same ControlApi: the same refusal, word for word.
  assert.equal(standalone.stderr, refusal);
  assertTrees('neither refusal touched a file');

  const resync = await rbmctl(['--config', env.configPath, 'sync', '--standalone', 'pair', '--resync']);
  assert.equal(resync.code, 0, resync.stdout + resync.stderr);
  assertTrees('the resync the hint names unblocks the job and keeps every file');
}
