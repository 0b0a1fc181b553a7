// rbmctl check-config: offline validation through the config layer (rclone capabilities from recorded
// 1.75 output, so no rclone runs here): a one-line summary and 0, or every problem and 78.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { buildCapabilities } from '../../src/rclone/caps.js';
import { RbmError } from '../../src/errors.js';
import { PROJECT_ROOT } from '../../src/version.js';

const fixture = (path: string): string => readFileSync(join(PROJECT_ROOT, 'test/fixtures', path), 'utf8');
const caps = buildCapabilities('rclone', fixture('rclone/v1.75-version.txt'), fixture('rclone/v1.75-bisync-help.txt'), fixture('rclone/v1.75-help-flags.txt'));

async function checkConfig(args: string[], home: string, probe = () => Promise.resolve(caps)) {
  let stdout = '';
  let stderr = '';
  const code = await main(['check-config', ...args], { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, stdin: process.stdin, env: { HOME: home } }, {
    probeRclone: probe,
    connect: () => Promise.reject(new Error('check-config must not need the service')),
  });
  return { code, stdout, stderr };
}

test('check-config: the example validates; a broken file lists every problem and exits 78; a missing rclone exits 10', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'rbm-check-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const good = await checkConfig(['--config', join(PROJECT_ROOT, 'examples/config.yaml')], home);
  assert.equal(good.code, 0, good.stdout + good.stderr);
  assert.match(good.stdout, /^config\.yaml: OK, \d+ jobs? \(\d+ active\), rclone 1\.75\.\d+\n$/);

  const bad = join(home, 'bad.yaml');
  writeFileSync(bad, 'local_base_path: ~/Sync\nsync_jobs:\n  docs:\n    local: docs\n    remote: x\n    schedule: "not cron"\n    colour: blue\n');
  const r = await checkConfig(['--config', bad], home);
  assert.equal(r.code, 78);
  assert.match(r.stdout, /^invalid config \(\d+ problems?\):$/m);
  assert.match(r.stdout, /bad\.yaml:\d+:\d+ sync_jobs\.docs\.colour: /);
  const json = JSON.parse((await checkConfig(['--json', '--config', bad], home)).stdout);
  assert.equal(json.ok, false);
  assert.ok(json.issues.length >= 2);

  const norclone = await checkConfig(['--config', join(PROJECT_ROOT, 'examples/config.yaml')], home, () => Promise.reject(new RbmError('RcloneUnsupported', 'rclone is not installed')));
  assert.equal(norclone.code, 10);

  const missing = await checkConfig([], home);
  assert.equal(missing.code, 78, 'default path under $HOME/.config does not exist');
  assert.match(missing.stdout, /\.config\/rclone-bisync-manager\/config\.yaml/);
});
