// rbmctl __complete-jobs: the job names shell completion offers. The running service's names (asked without
// auto-start), else the config file's sync_jobs keys; quiet and exit 0 whatever goes wrong.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import type { ClientOptions, RbmClient } from '../../src/dbus/client.js';
import { RbmError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'rbm-complete-jobs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function configHome(name: string, text: string | undefined): string {
  const home = join(dir, name);
  mkdirSync(join(home, 'rclone-bisync-manager'), { recursive: true });
  if (text !== undefined) writeFileSync(join(home, 'rclone-bisync-manager', 'config.yaml'), text);
  return home;
}

async function completeJobs(args: string[], env: Record<string, string>, connect: (options: ClientOptions) => Promise<RbmClient>) {
  let stdout = '';
  let stderr = '';
  const code = await main(['__complete-jobs', ...args], { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, stdin: process.stdin, env: { HOME: dir, ...env } }, { connect });
  return { code, stdout, stderr };
}

const notRunning = () => Promise.reject(new RbmError('ServiceUnavailable', 'the service is not running'));

test('the running service answers, asked without auto-start', async () => {
  const seen: ClientOptions[] = [];
  let closed = false;
  const client = { listJobs: () => Promise.resolve([{ name: 'zeta', state: 'idle', last_result: '', path: '/' }, { name: 'alpha', state: 'idle', last_result: '', path: '/' }]), close: () => void (closed = true) } as unknown as RbmClient;
  const r = await completeJobs([], { XDG_CONFIG_HOME: configHome('svc', 'sync_jobs:\n  fromfile: {}\n') }, (options) => (seen.push(options), Promise.resolve(client)));
  assert.deepEqual(r, { code: 0, stdout: 'alpha\nzeta\n', stderr: '' });
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.autoStart, false);
  assert.equal(closed, true);
});

test('without the service: the config file, even when the rest of it is invalid; odd keys are dropped', async () => {
  const text = 'local_base_path: 42\nmax_parallel_jobs: many\nsync_jobs:\n  photos: {}\n  "bad name; rm": {}\n  docs:\n    local: 7\n';
  const r = await completeJobs([], { XDG_CONFIG_HOME: configHome('file', text) }, notRunning);
  assert.deepEqual(r, { code: 0, stdout: 'docs\nphotos\n', stderr: '' });
});

test('--config and --from-config read the file without asking the service', async () => {
  const file = join(configHome('other', 'sync_jobs:\n  other: {}\n'), 'rclone-bisync-manager', 'config.yaml');
  const never = () => Promise.reject(new Error('the service must not be asked'));
  assert.deepEqual(await completeJobs(['--config', file], {}, never), { code: 0, stdout: 'other\n', stderr: '' });
  const home = configHome('added', 'sync_jobs:\n  added: {}\n');
  assert.deepEqual(await completeJobs(['--from-config'], { XDG_CONFIG_HOME: home }, never), { code: 0, stdout: 'added\n', stderr: '' });
});

test('nothing to offer: no file, not YAML, no sync_jobs map: prints nothing, exits 0', async () => {
  for (const [name, text] of [['missing', undefined], ['garbage', 'sync_jobs: [unclosed\n'], ['list', 'sync_jobs:\n  - a\n'], ['scalar', 'just text\n']] as const) {
    const r = await completeJobs([], { XDG_CONFIG_HOME: configHome(name, text) }, notRunning);
    assert.deepEqual(r, { code: 0, stdout: '', stderr: '' }, name);
  }
});
