// rbmctl loads only what a command needs (start-up time): the real entry runs in a child process with a module
// resolve hook that writes every module it loads to a file. status/jobs must not load the config layer (ajv, yaml),
// winston, the engine or child_process; check-config and one-shot sync must (so this test can fail). No bus here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from '../../src/version.js';

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

/** Run src/bin/rbmctl.ts with `args`; returns its exit code and the URLs of every module it loaded. */
function rbmctlLoads(dir: string, args: string[]): { code: number | null; stderr: string; urls: string[] } {
  const out = join(dir, `loaded-${args[0]}.txt`);
  writeFileSync(out, '');
  const hook = join(dir, 'hook.mjs');
  const preload = join(dir, 'preload.mjs');
  writeFileSync(hook, HOOK);
  writeFileSync(preload, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hook).href)}, { data: { out: ${JSON.stringify(out)} } });\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', pathToFileURL(preload).href, join(PROJECT_ROOT, 'src/bin/rbmctl.ts'), ...args], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH, HOME: dir, XDG_STATE_HOME: join(dir, 'state'), DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(dir, 'no-bus')}` },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stderr: r.stderr, urls: readFileSync(out, 'utf8').split('\n').filter(Boolean) };
}

const loaded = (urls: readonly string[], pattern: RegExp): string[] => urls.filter((u) => pattern.test(u));

test('plain status and jobs load the D-Bus client only (not even yargs); check-config and one-shot sync load the config layer and engine', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-lazy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  for (const command of [['status'], ['jobs']]) {
    const r = rbmctlLoads(dir, command);
    assert.equal(r.code, 69, `rbmctl ${command.join(' ')} without a bus: ${r.stderr}`);
    assert.ok(loaded(r.urls, /\/src\/dbus\/client\.ts$/).length === 1, `the D-Bus client is loaded for ${command[0]}`);
    assert.deepEqual(loaded(r.urls, /\/node_modules\/yargs\//), [], `plain rbmctl ${command[0]} is dispatched without yargs`);
    for (const [name, pattern] of Object.entries(HEAVY)) assert.deepEqual(loaded(r.urls, pattern), [], `rbmctl ${command[0]} must not load ${name}`);
  }

  // Any other form goes through yargs (same command, same result: test/unit/cli-fast-path.test.ts).
  const withOption = rbmctlLoads(dir, ['status', '--timeout', '5']);
  assert.equal(withOption.code, 69, withOption.stderr);
  assert.ok(loaded(withOption.urls, /\/node_modules\/yargs\//).length > 0, 'rbmctl status --timeout 5 is parsed by yargs');

  const version = rbmctlLoads(dir, ['--version']);
  assert.equal(version.code, 0, version.stderr);
  assert.deepEqual(loaded(version.urls, /\/node_modules\/dbus-next\/|\/src\/dbus\//), [], 'rbmctl --version does not load the D-Bus client');

  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, 'sync_jobs: {}\n');
  const check = rbmctlLoads(dir, ['check-config', '--config', configPath]);
  assert.notEqual(check.code, null, check.stderr);
  for (const name of ['ajv', 'yaml', 'config layer'] as const) assert.ok(loaded(check.urls, HEAVY[name]).length > 0, `check-config loads ${name}`);

  const oneShot = rbmctlLoads(dir, ['sync', '--standalone', '--config', join(dir, 'missing.yaml')]);
  assert.notEqual(oneShot.code, 0, 'a missing config fails the one-shot sync');
  for (const name of ['winston', 'engine'] as const) assert.ok(loaded(oneShot.urls, HEAVY[name]).length > 0, `one-shot sync loads ${name}`);
});
