// rbmctl loads only what a command needs (start-up time): the real entry runs in a child process with a module
// resolve hook that writes every module it loads to a file. status/jobs must not load the config layer (ajv, yaml),
// winston, the engine or child_process while the service answers (a real D-Bus server over a fake service on a
// private bus); without the service, status loads them only through the in-process service (cli/standalone.ts);
// check-config and one-shot sync must load them (so this test can fail).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from '../../src/version.js';
import { startDbusServer } from '../../src/dbus/server.js';
import { nullLogger } from '../../src/ports.js';
import { startPrivateBus } from '../helpers/dbus-daemon.js';
import { createFakeControl } from '../helpers/fake-control.js';
import { requireProgram } from '../helpers/tools.js';

const HOOK = `import { appendFileSync } from 'node:fs';
let out;
export function initialize(data) { out = data.out; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(out, result.url + '\\n');
  return result;
}
`;

const HEAVY = {
  ajv: /\/node_modules\/ajv\//,
  yaml: /\/node_modules\/yaml\//,
  winston: /\/node_modules\/winston\//,
  engine: /\/src\/(run|state)\//,
  'config layer': /\/src\/config\/(load|parse|check)\.ts$/,
  child_process: /^node:child_process$/,
} as const;

/** Run src/bin/rbmctl.ts with `args` (on `bus`); its exit code and the URLs of every module it loaded, in order. */
async function rbmctlLoads(dir: string, args: string[], bus = `unix:path=${join(dir, 'no-bus')}`): Promise<{ code: number | null; stderr: string; urls: string[] }> {
  const out = join(dir, `loaded-${args[0]}.txt`);
  writeFileSync(out, '');
  const hook = join(dir, 'hook.mjs');
  const preload = join(dir, 'preload.mjs');
  writeFileSync(hook, HOOK);
  writeFileSync(preload, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hook).href)}, { data: { out: ${JSON.stringify(out)} } });\n`);
  // Not spawnSync: the D-Bus server that answers the child runs in this process.
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', pathToFileURL(preload).href, join(PROJECT_ROOT, 'src/bin/rbmctl.ts'), ...args], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH, HOME: dir, XDG_STATE_HOME: join(dir, 'state'), DBUS_SESSION_BUS_ADDRESS: bus },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  return { code, stderr, urls: readFileSync(out, 'utf8').split('\n').filter(Boolean) };
}

const loaded = (urls: readonly string[], pattern: RegExp): string[] => urls.filter((u) => pattern.test(u));

test('with the service running, plain status and jobs load the D-Bus client only (not even yargs)', async (t) => {
  if (!requireProgram(t, 'dbus-daemon')) return;
  const dir = mkdtempSync(join(tmpdir(), 'rbm-lazy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bus = await startPrivateBus();
  t.after(() => bus.stop());
  const server = await startDbusServer(createFakeControl({ jobs: ['photos'] }), { busAddress: bus.address, logger: nullLogger });
  t.after(() => server.close());

  for (const command of [['status'], ['jobs']]) {
    const r = await rbmctlLoads(dir, command, bus.address);
    assert.equal(r.code, 0, `rbmctl ${command.join(' ')} with the service: ${r.stderr}`);
    assert.ok(loaded(r.urls, /\/src\/dbus\/client\.ts$/).length === 1, `the D-Bus client is loaded for ${command[0]}`);
    assert.deepEqual(loaded(r.urls, /\/node_modules\/yargs\//), [], `plain rbmctl ${command[0]} is dispatched without yargs`);
    assert.deepEqual(loaded(r.urls, /\/src\/cli\/standalone\.ts$/), [], `rbmctl ${command[0]} with the service does not load the in-process service`);
    for (const [name, pattern] of Object.entries(HEAVY)) assert.deepEqual(loaded(r.urls, pattern), [], `rbmctl ${command[0]} must not load ${name}`);
  }
  // Any other form goes through yargs (same command, same result: test/unit/cli-fast-path.test.ts).
  const withOption = await rbmctlLoads(dir, ['status', '--timeout', '5'], bus.address);
  assert.equal(withOption.code, 0, withOption.stderr);
  assert.ok(loaded(withOption.urls, /\/node_modules\/yargs\//).length > 0, 'rbmctl status --timeout 5 is parsed by yargs');
});

test('without a bus: jobs loads nothing heavy, status only through the in-process service; check-config and one-shot sync load the config layer and engine', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-lazy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  const jobs = await rbmctlLoads(dir, ['jobs']);
  assert.equal(jobs.code, 69, `rbmctl jobs without a bus: ${jobs.stderr}`);
  assert.ok(loaded(jobs.urls, /\/src\/dbus\/client\.ts$/).length === 1, 'the D-Bus client is loaded for jobs');
  for (const [name, pattern] of Object.entries(HEAVY)) assert.deepEqual(loaded(jobs.urls, pattern), [], `rbmctl jobs without a bus must not load ${name}`);
  // Without the service, status reads the state directory through the in-process service, and only through it.
  const offline = await rbmctlLoads(dir, ['status']);
  assert.equal(offline.code, 0, offline.stderr);
  assert.match(offline.stderr, /^rbmctl: the service is not running; showing what its state directory holds$/m);
  const standalone = offline.urls.findIndex((u) => /\/src\/cli\/standalone\.ts$/.test(u));
  assert.ok(standalone > 0, 'the in-process service is loaded');
  for (const name of ['winston', 'engine', 'config layer'] as const) {
    const first = offline.urls.findIndex((u) => HEAVY[name].test(u));
    assert.ok(first > standalone, `status without the service loads ${name} only through cli/standalone.ts`);
  }

  const version = await rbmctlLoads(dir, ['--version']);
  assert.equal(version.code, 0, version.stderr);
  assert.deepEqual(loaded(version.urls, /\/node_modules\/dbus-next\/|\/src\/dbus\//), [], 'rbmctl --version does not load the D-Bus client');

  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, 'sync_jobs: {}\n');
  const check = await rbmctlLoads(dir, ['check-config', '--config', configPath]);
  assert.notEqual(check.code, null, check.stderr);
  for (const name of ['ajv', 'yaml', 'config layer'] as const) assert.ok(loaded(check.urls, HEAVY[name]).length > 0, `check-config loads ${name}`);

  const oneShot = await rbmctlLoads(dir, ['sync', '--standalone', '--config', join(dir, 'missing.yaml')]);
  assert.notEqual(oneShot.code, 0, 'a missing config fails the one-shot sync');
  for (const name of ['winston', 'engine'] as const) assert.ok(loaded(oneShot.urls, HEAVY[name]).length > 0, `one-shot sync loads ${name}`);
});
