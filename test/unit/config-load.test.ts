// Reading the config from disk and the check-config summary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfigFile, summarizeConfig } from '../../src/config/check.js';
import { createConfigLoader, defaultConfigPath, loadConfig, loadConfigWithRclone } from '../../src/config/load.js';
import { buildCapabilities } from '../../src/rclone/caps.js';
import { ConfigError, RbmError, exitCodeFor } from '../../src/errors.js';
import { readFileSync } from 'node:fs';

const fixture = (path: string): string => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');
const rclone175 = buildCapabilities('rclone', fixture('rclone/v1.75-version.txt'), fixture('rclone/v1.75-bisync-help.txt'), fixture('rclone/v1.75-help-flags.txt'));

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-load-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('defaultConfigPath follows XDG_CONFIG_HOME, falling back to ~/.config when unset or relative', () => {
  assert.equal(defaultConfigPath({ HOME: '/home/u' }), '/home/u/.config/rclone-bisync-manager/config.yaml');
  assert.equal(defaultConfigPath({ HOME: '/home/u', XDG_CONFIG_HOME: '/xdg' }), '/xdg/rclone-bisync-manager/config.yaml');
  assert.equal(defaultConfigPath({ HOME: '/home/u', XDG_CONFIG_HOME: '' }), '/home/u/.config/rclone-bisync-manager/config.yaml');
  assert.equal(defaultConfigPath({ HOME: '/home/u', XDG_CONFIG_HOME: 'rel' }), '/home/u/.config/rclone-bisync-manager/config.yaml');
});

test('loadConfig reads and validates a file; relative filter files resolve next to it', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'config.yaml');
  writeFileSync(file, 'local_base_path: /data\nexclusion_rules_file: rules.txt\n');
  const config = await loadConfig(file, { home: '/home/u' });
  assert.equal(config.path, file);
  assert.equal(config.global.exclusionRulesFile, join(dir, 'rules.txt'));
});

test('a missing file is a ConfigError whose hint says how to create one', async (t) => {
  const file = join(tempDir(t), 'nope', 'config.yaml');
  await assert.rejects(loadConfig(file, { home: '/home/u' }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.issues[0]!.file, file);
    assert.match(e.issues[0]!.message, /the config file does not exist/);
    assert.match(e.hint ?? '', /cp examples\/config\.yaml/);
    assert.match(e.hint ?? '', /npm run demo/);
    return true;
  });
});

test('a directory or an oversized file is refused without reading it', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'config.yaml'));
  await assert.rejects(loadConfig(join(dir, 'config.yaml'), { home: '/h' }), (e: unknown) => e instanceof ConfigError && /not a regular file/.test(e.issues[0]!.message));
  const big = join(dir, 'big.yaml');
  writeFileSync(big, Buffer.alloc(5 * 1024 * 1024, 0x20));
  await assert.rejects(loadConfig(big, { home: '/h' }), (e: unknown) => e instanceof ConfigError && /the file is 5\.0 MiB/.test(e.issues[0]!.message));
});

test('checkConfigFile: one summary line when valid, every issue when not (exit code 78)', async (t) => {
  const dir = tempDir(t);
  const good = join(dir, 'config.yaml');
  copyFileSync(new URL('../../examples/config.yaml', import.meta.url), good);
  const ok = await checkConfigFile(good, { home: '/home/u', caps: rclone175 });
  assert.ok(ok.ok);
  assert.equal(ok.summary, 'config.yaml: OK, 2 jobs (0 active), rclone 1.75.2');

  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'local_base_path: x\nmax_parallel_jobs: 0\n');
  const result = await checkConfigFile(bad, { home: '/home/u' });
  assert.ok(!result.ok);
  assert.equal(result.error.issues.length, 2);
  assert.equal(result.error.exitCode, 78);
  assert.equal(exitCodeFor('InvalidConfig'), 78);
});

test('summarizeConfig counts jobs and mentions a global dry run', async (t) => {
  const file = join(tempDir(t), 'c.yaml');
  writeFileSync(file, 'local_base_path: /d\ndry_run: true\nsync_jobs:\n  a: {local: a, rclone_remote: r, remote: a, schedule: "@daily"}\n');
  assert.equal(summarizeConfig(await loadConfig(file, { home: '/h' })), 'c.yaml: OK, 1 job (1 active), dry run');
});

test('with a probe, the rclone named by rclone_binary is detected and the file is checked against it', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'config.yaml');
  const rclone160 = buildCapabilities('rclone', fixture('rclone/v1.60-version.txt'), fixture('rclone/v1.60-bisync-help.txt'), fixture('rclone/v1.60-help-flags.txt'));
  writeFileSync(file, 'local_base_path: /d\nrclone_binary: /opt/rclone-1.60\nsync_jobs:\n  a: {local: a, rclone_remote: r, remote: a, schedule: "@daily", conflict_resolve: newer}\n');
  // The probe double returns capabilities built from real 1.60 output; platform/rclone-probe.ts is tested against real binaries.
  const asked: string[] = [];
  const probe = (binary: string) => (asked.push(binary), Promise.resolve(rclone160));
  const result = await checkConfigFile(file, { home: '/h', probe });
  assert.deepEqual(asked, ['/opt/rclone-1.60']);
  assert.ok(!result.ok);
  assert.match(result.error.message, /config\.yaml:4:66 sync_jobs\.a\.conflict_resolve: conflict_resolve \(--conflict-resolve\) needs rclone >= 1\.66/);

  writeFileSync(file, 'local_base_path: /d\nsync_jobs:\n  a: {local: a, rclone_remote: r, remote: a, schedule: "@daily"}\n');
  const { config, caps } = await loadConfigWithRclone(file, { home: '/h', probe });
  assert.equal(caps?.version, '1.60.1');
  assert.equal(config.jobs.length, 1);
  const ok = await checkConfigFile(file, { home: '/h', probe });
  assert.ok(ok.ok);
  assert.equal(ok.summary, 'config.yaml: OK, 1 job (1 active), rclone 1.60.1');

  // A missing rclone is not a config problem: the probe's RcloneUnsupported error comes through (exit 10).
  const missing = () => Promise.reject(new RbmError('RcloneUnsupported', 'rclone not found: rclone'));
  await assert.rejects(checkConfigFile(file, { home: '/h', probe: missing }), (e: unknown) => e instanceof RbmError && e.exitCode === 10);
});

test('the config loader does not parse unchanged bytes again for the same rclone, and does for new bytes or a new rclone', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'config.yaml');
  const caps = buildCapabilities('rclone', fixture('rclone/v1.60-version.txt'), fixture('rclone/v1.60-bisync-help.txt'), fixture('rclone/v1.60-help-flags.txt'));
  let current = caps;
  const load = createConfigLoader({ home: '/h', probe: () => Promise.resolve(current) });
  writeFileSync(file, 'local_base_path: /d\nsync_jobs:\n  a: {local: a, rclone_remote: r, remote: a, schedule: "@daily"}\n');
  const first = (await load(file)).config;
  assert.equal((await load(file)).config, first, 'same bytes, same rclone: the validated config is reused');

  writeFileSync(file, 'local_base_path: /d\nsync_jobs:\n  a: {local: a, rclone_remote: r, remote: a, schedule: "@hourly"}\n');
  const edited = (await load(file)).config;
  assert.notEqual(edited, first);
  assert.equal(edited.jobs[0]?.schedule, '@hourly');

  current = { ...caps }; // an upgraded rclone: the probe answers with new capabilities
  assert.notEqual((await load(file)).config, edited, 'a new rclone validates the file again');

  writeFileSync(file, 'local_base_path: /d\nsync_jobs:\n  a: {local: a, rclone_remote: r, remote: a, schedule: "@hourly", bogus: 1}\n');
  await assert.rejects(load(file), (e: unknown) => e instanceof ConfigError && /bogus/.test(e.message + JSON.stringify(e.issues)));
});
