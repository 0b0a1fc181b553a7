// Probing the distribution's rclone (1.60 on Debian 12, via RBM_TEST_RCLONE in the compat run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfigFile } from '../../src/config/check.js';
import { probeRclone } from '../../src/platform/rclone-probe.js';
import { parseConfig } from '../../src/config/parse.js';
import { ConfigError } from '../../src/errors.js';
import { rcloneVersion, requireProgram, testRclone } from '../helpers/tools.js';

const CONFIG = `local_base_path: /data
rclone_options: {bwlimit: 1M, max_delete: 20, exclude: ["*.tmp"]}
sync_jobs:
  docs:
    local: docs
    rclone_remote: gdrive
    remote: Documents
    schedule: "*/15 * * * *"
    check_access: true
`;

test('probing the installed rclone reads its version and accepts global flags such as --bwlimit', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone) return;
  const caps = await probeRclone(rclone);
  const expected = rcloneVersion(rclone);
  assert.equal(`${caps.major}.${caps.minor}`, `${expected.major}.${expected.minor}`);
  for (const flag of ['resync', 'check-access', 'filters-file', 'workdir', 'bwlimit', 'max-delete', 'exclude', 'dry-run', 'verbose']) {
    assert.ok(caps.flags.has(flag), `--${flag}`);
  }
  // Options every supported rclone takes validate against the real probe.
  assert.equal(parseConfig(CONFIG, { file: '/c.yaml', home: '/h', caps }).jobs.length, 1);
});

test('conflict_resolve is accepted only when the installed rclone is 1.66 or newer, and the error names 1.66', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone) return;
  const caps = await probeRclone(rclone);
  const text = `${CONFIG}    conflict_resolve: newer\n`;
  if (caps.minor >= 66) {
    assert.equal(parseConfig(text, { file: '/c.yaml', home: '/h', caps }).jobs[0]!.conflictResolve, 'newer');
    return;
  }
  assert.equal(caps.flags.has('conflict-resolve'), false);
  assert.throws(() => parseConfig(text, { file: '/c.yaml', home: '/h', caps }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.issues.length, 1);
    assert.equal(`${e.issues[0]!.line}:${e.issues[0]!.col} ${e.issues[0]!.path}`, '10:5 sync_jobs.docs.conflict_resolve');
    assert.match(e.issues[0]!.message, new RegExp(`needs rclone >= 1\\.66, but the installed rclone is ${caps.version.replace(/\./g, '\\.')}`));
    return true;
  });
});

test('the shipped example validates against the installed rclone', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone) return;
  const dir = mkdtempSync(join(tmpdir(), 'rbm-check-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'config.yaml');
  const example = readFileSync(new URL('../../examples/config.yaml', import.meta.url), 'utf8');
  writeFileSync(file, example.replace('rclone_binary: rclone', `rclone_binary: ${rclone}`));
  const result = await checkConfigFile(file, { home: dir, probe: (binary) => probeRclone(binary) });
  assert.ok(result.ok, result.ok ? '' : result.error.message);
  assert.match(result.summary, /^config\.yaml: OK, 2 jobs \(0 active\), rclone 1\.\d+\.\d+$/);
});
