// pidAlive and zombies: a killed rclone whose parent is gone stays a zombie until something reaps it (some container
// inits never do). It holds nothing, so its job and rclone locks must count as stale. Real processes, no root needed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pidAlive, processState } from '../../src/platform/process-info.js';
import { removeStaleRcloneLocks } from '../../src/run/rclone-lock.js';
import { nullLogger } from '../../src/ports.js';

/** Children of `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    });
}

test('a zombie is not alive, and an rclone lock it held is removed as stale', async (t) => {
  // sh starts `true` in the background, then becomes `sleep`, which never reaps it: `true` stays a zombie.
  const parent = spawn('sh', ['-c', 'true & exec sleep 30'], { stdio: 'ignore' });
  t.after(() => parent.kill('SIGKILL'));
  let zombie: number | undefined;
  for (let i = 0; i < 200 && zombie === undefined; i++) {
    zombie = childrenOf(parent.pid!).find((p) => processState(p) === 'Z');
    if (zombie === undefined) await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(zombie !== undefined, 'the background child became a zombie');
  assert.equal(pidAlive(zombie), false, 'a zombie holds nothing');
  assert.equal(pidAlive(parent.pid!), true, 'a sleeping process is alive');
  assert.notEqual(processState(parent.pid!), 'Z'); // running or sleeping, depending on how far exec got

  const workdir = mkdtempSync(join(tmpdir(), 'rbm-zombie-'));
  t.after(() => rmSync(workdir, { recursive: true, force: true }));
  writeFileSync(join(workdir, 'pair.lck'), JSON.stringify({ PID: String(zombie) }));
  writeFileSync(join(workdir, 'other.lck'), JSON.stringify({ PID: String(parent.pid) }));
  const result = removeStaleRcloneLocks(workdir, nullLogger);
  assert.deepEqual(result.removed, [join(workdir, 'pair.lck')]);
  assert.deepEqual(result.held, [{ path: join(workdir, 'other.lck'), pid: parent.pid }]);
});
