// One-shot sync (rbmctl sync --standalone, through the service built in this process) against a real rclone: exit
// codes for ok, healed by --recover, needs resync, resync, already running, retryable (unreachable remote), unknown job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { acquireJobLock } from '../../src/state/job-lock.js';
import { jobPaths } from '../../src/state/paths.js';
import { createEngineEnv, tempDir, writeFiles } from '../helpers/engine-env.js';
import { RecordingLogger } from '../helpers/fake-spawner.js';
import { requireProgram, testRclone } from '../helpers/tools.js';
import { standaloneSync } from '../helpers/standalone-sync.js';

/** A loopback port nothing listens on (bound, then closed). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 1));
    });
  });
}

test('one-shot exit codes with a real rclone', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone) return;
  const dir = tempDir(t);
  const env = createEngineEnv({ rclone, dir, path2: join(dir, 'remote') });
  writeFiles(env.local, { 'a.txt': 'a\n', 'b.txt': 'b\n' });
  const config = { path: join(dir, 'config.yaml'), global: env.global, jobs: [env.job] };
  const lines: string[] = [];
  const sync = async (args: string[]) => {
    const r = await standaloneSync(config, env.runner, args);
    lines.push(...`${r.stdout}${r.stderr}`.split('\n'));
    return r.code;
  };
  const workdir = jobPaths(join(dir, 'state'), 'pair').workdir;
  const listings = (suffix: RegExp) => readdirSync(workdir).filter((n) => suffix.test(n)).map((n) => join(workdir, n));

  assert.equal(await sync([]), 0, 'first run: resync, ok');
  assert.ok(lines.some((l) => /^pair: success \(run \d+\): /.test(l)), lines.join('\n'));

  for (const f of listings(/\.lst$/)) rmSync(f);
  assert.equal(await sync(['pair']), 0, '--recover restores the backup listings (1.66+)');

  for (const f of listings(/\.lst(-old)?$/)) rmSync(f);
  assert.equal(await sync(['pair']), 6, 'no listings and no backup: needs resync');
  assert.ok(lines.some((l) => /next: .*rbmctl sync pair --resync/.test(l)), lines.join('\n'));
  assert.equal(await sync(['pair']), 6, 'stays locked out until the user resyncs');
  assert.equal(await sync(['pair', '--resync']), 0);

  const lock = acquireJobLock(jobPaths(join(dir, 'state'), 'pair').lock, 'pair', new RecordingLogger(), Date.now());
  try {
    assert.equal(await sync(['pair']), 5, 'another process holds the job');
  } finally {
    lock.release();
  }

  assert.equal(await sync(['nope']), 3);

  const port = await closedPort();
  const conf = join(dir, 'down.conf');
  writeFileSync(conf, `[down]\ntype = sftp\nhost = 127.0.0.1\nport = ${port}\nuser = u\n`);
  const downEnv = createEngineEnv({ rclone, dir: tempDir(t), path2: 'down:share', env: { ...process.env, RCLONE_CONFIG: conf }, job: { rcloneOptions: { low_level_retries: 1 } } });
  writeFiles(downEnv.local, { 'x.txt': 'x\n' });
  const downConfig = { path: conf, global: downEnv.global, jobs: [downEnv.job] };
  const down = await standaloneSync(downConfig, downEnv.runner, []);
  assert.equal(down.code, 75, `unreachable remote: retryable (EX_TEMPFAIL)\n${down.stdout}`);
  // A new job: the first setup step (rclone mkdir) meets the unreachable remote, and the run ends with its error.
  assert.match(down.stdout, /^pair: retryable \(run \d+\): setting up the pair failed \(rclone mkdir down:share\): the remote could not be reached; nothing was changed/m);
});
