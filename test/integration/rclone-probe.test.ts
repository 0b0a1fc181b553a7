// Probing the real modern rclone (RBM_TEST_RCLONE): version, flags, caching, and what that means for a config.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, statSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { checkConfigFile } from '../../src/config/check.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clearRcloneProbeCache, execFileSpawner, probeRclone } from '../../src/platform/rclone-probe.js';
import { parseConfig } from '../../src/config/parse.js';
import { RbmError } from '../../src/errors.js';
import type { Spawner } from '../../src/ports.js';
import { rcloneVersion, requireProgram, testRclone } from '../helpers/tools.js';

const CONFIG = `local_base_path: /data
sync_jobs:
  docs:
    local: docs
    rclone_remote: gdrive
    remote: Documents
    schedule: "*/15 * * * *"
    conflict_resolve: newer
    bisync_options: {resilient_typo: true}
`;

test('probing modern rclone finds its version and its bisync and global flags', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone) return;
  const caps = await probeRclone(rclone);
  const expected = rcloneVersion(rclone);
  assert.equal(caps.binary, rclone);
  assert.equal(`${caps.major}.${caps.minor}`, `${expected.major}.${expected.minor}`);
  assert.ok(caps.minor >= 66, `the full suite needs rclone >= 1.66, got ${caps.version}`);
  for (const flag of ['conflict-resolve', 'recover', 'max-lock', 'resync-mode', 'bwlimit', 'max-delete', 'exclude', 'color']) {
    assert.ok(caps.flags.has(flag), `--${flag}`);
  }
});

test('a config with conflict_resolve is accepted by modern rclone; an unknown flag is named', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone) return;
  const caps = await probeRclone(rclone);
  assert.equal(parseConfig(CONFIG.replace('    bisync_options: {resilient_typo: true}\n', ''), { file: '/c.yaml', home: '/h', caps }).jobs[0]!.conflictResolve, 'newer');
  assert.throws(() => parseConfig(CONFIG, { file: '/c.yaml', home: '/h', caps }), new RegExp(`rclone ${caps.version.replace(/\./g, '\\.')} does not accept --resilient-typo`));
});

/** A private copy of the rclone binary (so the tests can replace it), in a temp dir removed after the test. */
function rcloneCopy(t: TestContext, rclone: string): { dir: string; copy: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-probe-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const copy = join(dir, 'rclone');
  copyFileSync(rclone, copy);
  chmodSync(copy, 0o755);
  return { dir, copy };
}

/** The real spawner, counting the processes it starts. */
function countingSpawner(): { counting: Spawner; spawned: () => number } {
  let count = 0;
  return { counting: { spawn: (cmd, args, options) => (count++, execFileSpawner.spawn(cmd, args, options)) }, spawned: () => count };
}

test('the probe is cached per binary and runs again when the binary changes', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone) return;
  const { copy } = rcloneCopy(t, rclone);
  clearRcloneProbeCache();
  const { counting, spawned } = countingSpawner();
  const first = await probeRclone(copy, { spawner: counting });
  const second = await probeRclone(copy, { spawner: counting });
  assert.equal(second, first, 'same object from the cache');
  assert.equal(spawned(), 3, 'version, bisync --help and help flags, once');
  // Replace the binary with a script pretending to be an old rclone: the probe notices and refuses it.
  rmSync(copy);
  writeFileSync(copy, '#!/bin/sh\necho "rclone v1.57.0"\n');
  chmodSync(copy, 0o755);
  await assert.rejects(probeRclone(copy, { spawner: counting }), (e: unknown) => e instanceof RbmError && e.code === 'RcloneUnsupported' && /1\.57\.0.*too old: bisync needs rclone >= 1\.58/.test(e.message));
  assert.equal(spawned(), 6);
});

test('the probe file cache: a new process reuses it, an upgraded binary is probed again, a corrupt file is ignored', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone) return;
  const { dir, copy } = rcloneCopy(t, rclone);
  const cacheFile = join(dir, 'state', 'rclone-probe.json');
  const { counting, spawned } = countingSpawner();

  clearRcloneProbeCache();
  const probed = await probeRclone(copy, { spawner: counting, cacheFile });
  assert.equal(spawned(), 3, 'the first probe runs rclone');
  assert.equal(statSync(cacheFile).mode & 0o777, 0o600, 'the cache file is private');
  clearRcloneProbeCache(); // as a new process would start
  const reused = await probeRclone(copy, { spawner: counting, cacheFile });
  assert.equal(spawned(), 3, 'a fresh process takes the result from the file');
  assert.equal(reused.version, probed.version);
  assert.deepEqual([...reused.flags].sort(), [...probed.flags].sort(), 'the same flags as the real probe');

  // An "upgrade": the file is replaced (new inode, size and times); the cache must not answer for it.
  rmSync(copy);
  writeFileSync(copy, '#!/bin/sh\necho "rclone v1.57.0"\n');
  chmodSync(copy, 0o755);
  clearRcloneProbeCache();
  await assert.rejects(probeRclone(copy, { spawner: counting, cacheFile }), (e: unknown) => e instanceof RbmError && e.code === 'RcloneUnsupported');
  assert.equal(spawned(), 6, 'the replaced binary was probed');

  copyFileSync(rclone, copy);
  writeFileSync(cacheFile, '{"format":1,"records":[{"path":');
  clearRcloneProbeCache();
  const again = await probeRclone(copy, { spawner: counting, cacheFile });
  assert.equal(spawned(), 9, 'a corrupt cache file is no cache');
  assert.equal(again.version, probed.version);
});

test('a missing rclone is RcloneUnsupported with an install hint', async () => {
  await assert.rejects(probeRclone('/nonexistent/rclone'), (e: unknown) => {
    assert.ok(e instanceof RbmError);
    assert.equal(e.code, 'RcloneUnsupported');
    assert.equal(e.message, 'rclone not found: /nonexistent/rclone');
    assert.match(e.hint ?? '', /apt install rclone/);
    assert.match(e.hint ?? '', /rclone_binary/);
    return true;
  });
  await assert.rejects(probeRclone('rclone-does-not-exist-anywhere'), (e: unknown) => e instanceof RbmError && e.code === 'RcloneUnsupported');
});

test('a program that is not rclone is refused', async (t) => {
  const sh = requireProgram(t, 'true');
  if (!sh) return;
  await assert.rejects(probeRclone(sh), (e: unknown) => e instanceof RbmError && e.code === 'RcloneUnsupported' && /does not look like rclone/.test(e.message));
});

test('check-config end to end: the example validates against the real rclone, and the summary names its version', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone) return;
  const dir = mkdtempSync(join(tmpdir(), 'rbm-check-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'config.yaml');
  const example = readFileSync(new URL('../../examples/config.yaml', import.meta.url), 'utf8');
  writeFileSync(file, example.replace('rclone_binary: rclone', `rclone_binary: ${rclone}`));
  const result = await checkConfigFile(file, { home: dir, probe: (binary) => probeRclone(binary) });
  assert.ok(result.ok, result.ok ? '' : result.error.message);
  const caps = await probeRclone(rclone);
  assert.equal(result.summary, `config.yaml: OK, 2 jobs (0 active), rclone ${caps.version}`);
});
