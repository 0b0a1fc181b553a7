// install-user.sh and uninstall-user.sh into a throw-away home or staging root, with no systemd user manager
// reachable: the starter config, where the unit goes (and the move from where older installs put it), and DESTDIR.
// The real systemd --user run of the installed service is test/integration/systemd-user.test.ts.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseConfig } from '../../src/config/parse.js';
import { PROJECT_ROOT } from '../../src/version.js';

const APP = 'rclone-bisync-manager';
const UNIT = `${APP}.service`;
// Turns a hang (the old DESTDIR loop) into a failure; an install takes a few seconds.
const HANG_GUARD_MS = 120_000;

interface Result { code: number | null; signal: string | null; stdout: string; stderr: string }

function sandbox(t: TestContext): { dir: string; home: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-install-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const home = join(dir, 'home');
  mkdirSync(home);
  return { dir, home };
}

/** Runs a script of scripts/ as a user whose home is `home`, with no session bus and no user manager to reach. */
function script(name: string, home: string, extra: Record<string, string> = {}, cwd = PROJECT_ROOT): Result {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, NODE: process.execPath, ...extra };
  const r = spawnSync('bash', [join(PROJECT_ROOT, 'scripts', name)], { cwd, env, encoding: 'utf8', timeout: HANG_GUARD_MS });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function succeeded(r: Result, what: string): void {
  assert.equal(r.signal, null, `${what} was stopped by ${r.signal ?? ''} (it hung):\n${r.stdout}${r.stderr}`);
  assert.equal(r.code, 0, `${what} failed:\n${r.stdout}${r.stderr}`);
}

function assertBuildIsFresh(): void {
  const built = statSync(join(PROJECT_ROOT, 'dist/bundle/daemon.js')).mtimeMs;
  const newer = allFiles(join(PROJECT_ROOT, 'src')).filter((f) => statSync(f).mtimeMs > built);
  assert.deepEqual(newer, [], 'dist/ is older than src/: run npm run build first (scripts/test.sh does)');
}

function allFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? allFiles(p) : [p];
  });
}

const exists = (path: string): boolean => {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
};

test('a fresh per-user install writes a starter config that syncs nothing, and says what to edit, how to check it and how to apply it', (t) => {
  assertBuildIsFresh();
  const { home } = sandbox(t);
  const installed = script('install-user.sh', home);
  succeeded(installed, 'install-user.sh');

  const configPath = join(home, '.config', APP, 'config.yaml');
  const text = readFileSync(configPath, 'utf8');
  assert.equal(text, readFileSync(join(PROJECT_ROOT, 'examples/config.yaml'), 'utf8'), 'the starter is the annotated example');
  assert.equal(statSync(configPath).mode & 0o777, 0o600);
  const config = parseConfig(text, { file: configPath, home });
  assert.ok(config.jobs.length > 0, 'the starter shows jobs to copy');
  assert.deepEqual(config.jobs.filter((j) => j.active).map((j) => j.name), [], 'no job of the starter runs');
  assert.equal(config.global.runInitialSyncOnStartup, false);

  const said = installed.stdout;
  assert.match(said, /nothing syncs yet/);
  assert.ok(said.includes(`wrote a starter config: ${configPath}`), said);
  assert.match(said, /check it with: +rbmctl check-config/);
  assert.ok(said.includes(`systemctl --user reload ${APP}`), said);

  // The check it points to: the installed rbmctl accepts the starter and counts no active job.
  const check = spawnSync(join(home, '.local/bin/rbmctl'), ['check-config'], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home }, encoding: 'utf8', timeout: HANG_GUARD_MS,
  });
  assert.equal(check.status, 0, `rbmctl check-config:\n${check.stdout}${check.stderr}`);
  assert.match(check.stdout, /config\.yaml: OK, 2 jobs \(0 active\)/);

  // The unit goes where units of packages installed in the home belong; the user's own unit directory stays theirs.
  assert.ok(existsSync(join(home, '.local/share/systemd/user', UNIT)));
  assert.equal(exists(join(home, '.config/systemd/user')), false);

  // Installing again keeps the config the user may have edited.
  writeFileSync(configPath, '# mine\n');
  succeeded(script('install-user.sh', home), 'install-user.sh (again)');
  assert.equal(readFileSync(configPath, 'utf8'), '# mine\n');
});

/** An install as older versions made it: the unit in ~/.config/systemd/user, enabled from there. */
function oldInstall(home: string): { oldUnit: string; link: string } {
  const oldDir = join(home, '.config/systemd/user');
  succeeded(script('install-user.sh', home, { UNITDIR: oldDir }), 'install-user.sh (old layout)');
  const oldUnit = join(oldDir, UNIT);
  assert.ok(existsSync(oldUnit));
  // What `systemctl --user enable` leaves (WantedBy=default.target).
  const link = join(oldDir, 'default.target.wants', UNIT);
  mkdirSync(dirname(link));
  symlinkSync(oldUnit, link);
  return { oldUnit, link };
}

test('an install over one from the old unit location moves the unit and keeps it enabled; uninstall then removes it all', (t) => {
  assertBuildIsFresh();
  const { home } = sandbox(t);
  const { oldUnit, link } = oldInstall(home);
  const newUnit = join(home, '.local/share/systemd/user', UNIT);

  const upgraded = script('install-user.sh', home);
  succeeded(upgraded, 'install-user.sh (upgrade)');
  assert.equal(exists(oldUnit), false, 'the old unit file is gone (it would override the new one)');
  assert.ok(existsSync(newUnit));
  assert.equal(readlinkSync(link), newUnit, 'the enablement link follows the unit');
  assert.doesNotMatch(upgraded.stdout, /overrides the installed unit/);

  const manifest = readFileSync(join(home, '.local/lib', APP, 'install-manifest'), 'utf8');
  assert.ok(manifest.includes(`file ${newUnit}\n`));
  assert.ok(!manifest.includes(`file ${oldUnit}\n`));

  succeeded(script('uninstall-user.sh', home), 'uninstall-user.sh');
  for (const path of [newUnit, oldUnit, link, join(home, '.local/lib', APP), join(home, '.local/bin/rbmctl')]) {
    assert.equal(exists(path), false, `${path} was removed`);
  }
  assert.ok(existsSync(join(home, '.config', APP, 'config.yaml')), 'the config stays');
});

test('uninstall of an install made at the old unit location removes that unit and its enablement link', (t) => {
  assertBuildIsFresh();
  const { home } = sandbox(t);
  const { oldUnit, link } = oldInstall(home);
  succeeded(script('uninstall-user.sh', home), 'uninstall-user.sh');
  assert.equal(exists(oldUnit), false, 'the old unit file was removed');
  assert.equal(exists(link), false, 'no dangling enablement link is left');
  assert.equal(exists(join(home, '.local/lib', APP)), false);
});

test('a unit file of the user\'s own in ~/.config/systemd/user is left alone, and the install says it overrides ours', (t) => {
  assertBuildIsFresh();
  const { home } = sandbox(t);
  const mine = join(home, '.config/systemd/user', UNIT);
  mkdirSync(dirname(mine), { recursive: true });
  writeFileSync(mine, '[Service]\nExecStart=/bin/true\n');
  const installed = script('install-user.sh', home);
  succeeded(installed, 'install-user.sh');
  assert.equal(readFileSync(mine, 'utf8'), '[Service]\nExecStart=/bin/true\n');
  assert.ok(installed.stdout.includes(`note: ${mine} overrides the installed unit`), installed.stdout);
  succeeded(script('uninstall-user.sh', home), 'uninstall-user.sh');
  assert.ok(existsSync(mine), 'uninstall removes only what the install put in place');
});

test('PREFIX=/usr with a DESTDIR that does not exist yet installs into it (absolute and relative), and uninstalls from it', (t) => {
  assertBuildIsFresh();
  const { dir, home } = sandbox(t);
  for (const [destdir, root] of [[join(dir, 'missing', 'stage'), join(dir, 'missing', 'stage')], ['rel/stage', join(dir, 'rel', 'stage')]] as const) {
    const installed = script('install-user.sh', home, { PREFIX: '/usr', DESTDIR: destdir }, dir);
    succeeded(installed, `PREFIX=/usr DESTDIR=${destdir} install-user.sh`);
    for (const path of ['usr/bin/rbmctl', 'usr/bin/rclone-bisync-manager', `usr/lib/systemd/user/${UNIT}`, `usr/lib/${APP}/install-manifest`]) {
      assert.ok(existsSync(join(root, path)), `${path} is staged under ${root}`);
    }
    assert.ok(readdirSync(join(root, 'usr/share/dbus-1/services')).length > 0);
    assert.equal(exists(join(home, '.config')), false, 'a staged install writes nothing into the home');

    succeeded(script('uninstall-user.sh', home, { PREFIX: '/usr', DESTDIR: destdir }, dir), 'uninstall-user.sh');
    assert.equal(exists(join(root, 'usr/lib', APP)), false);
    assert.equal(exists(join(root, 'usr/bin/rbmctl')), false);
  }
});

test('a DESTDIR that is a file is refused with a message, not looped on', (t) => {
  const { dir, home } = sandbox(t);
  const file = join(dir, 'not-a-dir');
  writeFileSync(file, '');
  const r = script('install-user.sh', home, { PREFIX: '/usr', DESTDIR: file });
  assert.equal(r.signal, null, 'it did not hang');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /DESTDIR=.*not-a-dir exists and is not a directory/);
});
