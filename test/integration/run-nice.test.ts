// rclone_nice with a real rclone: while a (bandwidth-limited) run is in progress, every thread of the rclone process
// has the service's nice value + rclone_nice, read from /proc/<pid>/task/*/stat (field 19); the service keeps its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import { createEngineEnv, tempDir, writeFiles } from '../helpers/engine-env.js';
import { threadNices } from '../helpers/proc-nice.js';
import { requireProgram, testRclone } from '../helpers/tools.js';

test('rclone runs rclone_nice below the service while it syncs', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone) return;
  const dir = tempDir(t);
  const env = createEngineEnv({ rclone, dir, path2: join(dir, 'remote') });
  writeFiles(env.local, { 'big.bin': randomBytes(2 * 1024 * 1024) });
  const ours = getPriority();
  const stop = new AbortController();
  let seen: { pid: number; comm: string; nices: Map<number, number> } | undefined;
  const record = await env.runner.run({ ...env.job, rcloneOptions: { bwlimit: '256K' } }, { ...env.global, rcloneNice: 12 }, { trigger: 'manual' }, 1, {
    signal: stop.signal,
    onProgress: (p) => {
      if (seen || p.bytes === 0) return;
      const bisync = env.spawned.filter((s) => s.args[0] === 'bisync').at(-1);
      const pid = bisync?.child.pid;
      if (pid === undefined) return;
      seen = { pid, comm: readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), nices: threadNices(pid) };
      stop.abort(); // enough: the run is cancelled (gracefully on 1.66+)
    },
  });
  assert.ok(seen, `a transfer was in progress: ${record.outcome} ${record.message}`);
  assert.equal(seen.comm, 'rclone', 'the process read is rclone itself');
  assert.ok(seen.nices.size > 1, 'rclone (Go) runs several threads');
  for (const [tid, nice] of seen.nices) assert.equal(nice, Math.min(19, ours + 12), `rclone thread ${tid}`);
  assert.equal(getPriority(), ours, 'the service keeps its own priority');
  assert.equal(record.outcome, 'cancelled', record.message);
  assert.ok(!env.logger.messages('warn').some((m) => /cannot lower the CPU priority/.test(m)));
});
