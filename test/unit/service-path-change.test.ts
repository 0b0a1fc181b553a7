// Issue 12.6, the commit side: a reload the file watcher picked up never points a job at a path that looks cut or
// mistyped (the old path's parent or child, or a local directory that does not exist); an explicit reload applies it.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { jobPathChanges, suspiciousPathChange } from '../../src/config/path-changes.js';
import type { Config } from '../../src/config/types.js';
import type { Notifier } from '../../src/platform/notify.js';
import { nullLogger } from '../../src/ports.js';
import { createService, type Service } from '../../src/service/service.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeRunner, makeConfig } from '../helpers/fake-runner.js';
import { flush, makeJob } from '../helpers/scheduler-fixtures.js';

const never = '0 0 1 1 *';

const silent: Notifier = { ready: () => {}, reloading: () => {}, stopping: () => {}, status: () => {}, startWatchdog: () => {}, stopWatchdog: () => {} };

/** A service over a real directory tree (for the existence check) whose loader returns what the test sets. */
function world(t: TestContext): { root: string; service: Service; runner: FakeRunner; set(config: Config): void; job(local: string, remote: string): Config } {
  const root = mkdtempSync(join(tmpdir(), 'rbm-paths-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const configPath = join(root, 'config.yaml');
  writeFileSync(configPath, 'x\n');
  let current: Config | undefined;
  const runner = new FakeRunner();
  const service = createService({
    configPath,
    clock: new FakeClock(),
    logger: nullLogger,
    runner,
    notifier: silent,
    editor: { addJob: () => Promise.resolve(), removeJob: () => Promise.resolve() },
    version: '9.9.9',
    loadConfig: () => (current ? Promise.resolve(current) : Promise.reject(new Error('no config'))),
  });
  return {
    root,
    service,
    runner,
    set: (c) => (current = c),
    job: (local, remote) => makeConfig([makeJob('docs', { schedule: never, local: join(root, local), rcloneRemote: '', remote: join(root, remote), path2: join(root, remote) })]),
  };
}

test('a watcher reload that cuts a job path at an existing parent, or at a missing folder, is held back; the complete file is applied', async (t) => {
  const w = world(t);
  for (const d of ['local/docs', 'remote/parent/docs', 'remote/parent/other', 'remote/new-docs']) mkdirSync(join(w.root, d), { recursive: true });
  w.set(w.job('local/docs', 'remote/parent/docs'));
  await w.service.start();
  const reloads: [boolean, string][] = [];
  w.service.on('configReloaded', (ok, error) => reloads.push([ok, error]));

  // The file as a slow writer leaves it: cut at the parent folder, then inside a name.
  w.set(w.job('local/docs', 'remote/parent/'));
  await assert.rejects(w.service.reloadChangedFile(), (e: unknown) => (e as { code?: string }).code === 'InvalidConfig' && /contains the old one/.test((e as Error).message));
  w.set(w.job('local/docs', 'remote/pa'));
  await assert.rejects(w.service.reloadChangedFile(), /remote path .*remote\/pa does not exist/);
  w.set(w.job('local/do', 'remote/parent/docs'));
  await assert.rejects(w.service.reloadChangedFile(), /local path .*local\/do does not exist/);
  w.set(w.job('local/docs', 'remote/parent/docs/sub'));
  await assert.rejects(w.service.reloadChangedFile(), /lies inside the old one/);
  assert.equal(w.service.jobStatus('docs').config.path2, join(w.root, 'remote/parent/docs'), 'the last good paths stay in force');
  assert.match(w.service.status().configError, /config change not applied: job 'docs'.*\n.*rbmctl reload/);

  // A run now still uses the old paths.
  await w.service.sync(['docs'], {});
  await flush();
  assert.deepEqual(w.runner.runs.map((r) => r.job.path2), [join(w.root, 'remote/parent/docs')]);

  // The complete file: a deliberate move to an existing sibling folder is applied.
  w.set(w.job('local/docs', 'remote/new-docs'));
  await w.service.reloadChangedFile();
  assert.equal(w.service.jobStatus('docs').config.path2, join(w.root, 'remote/new-docs'));
  assert.equal(w.service.status().configError, '');
  assert.deepEqual(reloads.map((r) => r[0]), [false, false, false, false, true]);
});

test('an explicit reload (rbmctl reload, SIGHUP) is the confirmation: it applies a path change the watcher held back', async (t) => {
  const w = world(t);
  mkdirSync(join(w.root, 'local/docs'), { recursive: true });
  mkdirSync(join(w.root, 'remote/parent/docs'), { recursive: true });
  w.set(w.job('local/docs', 'remote/parent/docs'));
  await w.service.start();
  w.set(w.job('local/docs', 'remote/parent'));
  await assert.rejects(w.service.reloadChangedFile(), /contains the old one/);
  await w.service.reload();
  assert.equal(w.service.jobStatus('docs').config.path2, join(w.root, 'remote/parent'));
});

test('jobPathChanges / suspiciousPathChange: remotes, roots and boundaries', () => {
  const a = makeJob('a', { local: '/l/a', path2: 'r:photos/2024' });
  const b = makeJob('b', { local: '/l/b', path2: 'r:b' });
  assert.deepEqual(jobPathChanges([a, b], [{ ...a, path2: 'r:photos' }, makeJob('c')]), [{ job: 'a', side: 'remote', from: 'r:photos/2024', to: 'r:photos' }]);
  const never = (): boolean => false;
  const remote = (from: string, to: string): string | undefined => suspiciousPathChange({ job: 'a', side: 'remote', from, to }, never);
  assert.match(remote('r:photos/2024', 'r:photos') ?? '', /contains the old one/);
  assert.match(remote('r:photos', 'r:') ?? '', /contains the old one/, 'the remote root contains everything');
  assert.match(remote('r:photos', 'r:photos/2024/') ?? '', /lies inside/);
  assert.equal(remote('r:photos/2024', 'r:photos/2025'), undefined, 'a sibling on a remote cannot be checked here');
  assert.equal(remote('r:photos', 'r:photos-old'), undefined, 'a name that only shares a prefix is not a parent');
  assert.equal(suspiciousPathChange({ job: 'a', side: 'local', from: '/l/a', to: '/l/b' }, () => true), undefined);
  assert.match(suspiciousPathChange({ job: 'a', side: 'local', from: '/l/a', to: '/l/' }, () => true) ?? '', /contains/);
});
