// The ways a user installs the product, each ending with the service started by a real `systemd --user`
// (test/helpers/systemd-user.ts) and answering on its bus:
//   1. `npm pack` → `npm install -g --prefix ~/.local <tarball>` with no network (a registry on 127.0.0.1 serves what
//      npm asks for from the checkout), without the optional sd-notify addon: start must not wait for READY=1;
//   2. the .deb of `npm run deb`: dpkg installs it, a user enables the unit, it starts, and a purge removes every
//      file it installed. The machine's package database is left as it was.
// (`npm run install-user` is covered end to end by systemd-user.test.ts.) Needs root: runs under CI=true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUS_NAME, MANAGER_INTERFACE, OBJECT_PATH } from '../../src/errors.js';
import { IN_CI, requireProgram } from '../helpers/tools.js';
import { startLocalRegistry } from '../helpers/local-registry.js';
import { startUserManager, type UserManager } from '../helpers/systemd-user.js';

const PROJECT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const APP = 'rclone-bisync-manager';
const UNIT = `${APP}.service`;
const VERSION = (JSON.parse(readFileSync(join(PROJECT_DIR, 'package.json'), 'utf8')) as { version: string }).version;
const isRoot = process.getuid?.() === 0;
const skip = !isRoot && !IN_CI ? 'needs root (a throw-away user with its own systemd --user, and dpkg)' : false;
const PROGRAMS = ['systemctl', 'busctl', 'setpriv', 'useradd', 'npm', 'tar', 'dpkg', 'dpkg-deb'];

// One build (the checkout's dist/, checked fresh) and one scratch directory shared by both cases.
let scratch: string | undefined;
function scratchDir(): string {
  scratch ??= mkdtempSync(join(tmpdir(), 'rbm-install-packages-'));
  return scratch;
}
test.after(() => { if (scratch) rmSync(scratch, { recursive: true, force: true }); });

function assertBuildIsFresh(): void {
  const bundle = join(PROJECT_DIR, 'dist/bundle/daemon.js');
  assert.ok(existsSync(bundle), 'dist/ is built (npm run build; scripts/test.sh does it)');
  const built = statSync(bundle).mtimeMs;
  const newer = allFiles(join(PROJECT_DIR, 'src')).filter((f) => statSync(f).mtimeMs > built);
  assert.deepEqual(newer, [], 'dist/ is older than src/: run npm run build first');
}

/** systemctl --user start returned, so the unit is ready: it must be active now, and the service must answer. */
async function assertStartsAndAnswers(manager: UserManager, how: string[]): Promise<void> {
  await manager.check(['systemctl', '--user', 'daemon-reload']);
  await manager.check(['systemctl', '--user', ...how]);
  assert.equal((await manager.run(['systemctl', '--user', 'is-active', UNIT])).stdout.trim(), 'active',
    `active when start returned\n${(await manager.run(['systemctl', '--user', 'status', '--no-pager', UNIT])).stdout}`);
  const show = await manager.check(['systemctl', '--user', 'show', UNIT, '-p', 'Type']);
  assert.match(show, /^Type=dbus$/m, 'ready means the bus name is owned');
  const reply = await manager.check(['busctl', '--user', '--json=short', 'call', BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, 'Status']);
  const status = JSON.parse(reply) as { type: string; data: [Record<string, { data: unknown } | undefined>] };
  assert.equal(status.type, 'a{sv}');
  assert.equal(status.data[0].version?.data, VERSION, 'Status answers with the packaged version');
}

test('npm pack → npm install -g --prefix ~/.local with no network: the unit starts under systemd --user without the sd-notify addon', {
  skip, timeout: 240_000,
}, async (t) => {
  for (const program of PROGRAMS) requireProgram(t, program);
  assertBuildIsFresh();
  const dir = scratchDir();

  // The tarball a user downloads or publishes; `prepare` does nothing here because dist/ is built.
  const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: PROJECT_DIR, encoding: 'utf8' }).trim().split('\n').at(-1)!;
  const tarball = join(dir, packed);
  execFileSync('chmod', ['a+rx', dir]);
  execFileSync('chmod', ['a+r', tarball]);
  const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' });
  for (const path of ['package/dist/bundle/daemon.js', 'package/dist/bundle/rbmctl.js', 'package/bin/require-node.js', `package/systemd/${UNIT}`]) {
    assert.ok(listing.split('\n').includes(path), `the tarball carries ${path}`);
  }

  // Whatever npm asks for comes from 127.0.0.1; sd-notify (optional, native) is not offered, as when it fails to build.
  const registry = await startLocalRegistry(PROJECT_DIR, join(dir, 'registry'), ['sd-notify']);
  t.after(() => registry.close());
  const manager = await startUserManager();
  t.after(() => manager.stop());
  const prefix = join(manager.home, '.local');
  const npmEnv = {
    npm_config_registry: `${registry.url}/`, npm_config_cache: join(manager.home, '.npm'), npm_config_update_notifier: 'false',
    npm_config_audit: 'false', npm_config_fund: 'false', PATH: `${prefix}/bin:${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
  };
  const install = await manager.run(['npm', 'install', '-g', '--prefix', prefix, tarball], { env: npmEnv, timeoutMs: 180_000 });
  assert.equal(install.code, 0, `npm install -g failed:\n${install.stdout}${install.stderr}`);
  assert.ok(registry.requests.some((r) => r === '/sd-notify'), 'npm asked for the optional addon and went on without it');

  // Everything the program runs is in dist/bundle: the only runtime dependency is the optional addon, left out here.
  const appDir = join(prefix, 'lib/node_modules', APP);
  const installedModules = existsSync(join(appDir, 'node_modules')) ? readdirSync(join(appDir, 'node_modules')) : [];
  assert.deepEqual(installedModules, [], 'no node_modules: no usocket, no node-gyp, no sd-notify');
  t.diagnostic(`installed size: ${execFileSync('du', ['-sk', appDir], { encoding: 'utf8' }).split('\t')[0]} KB`);
  assert.equal((await manager.check([join(prefix, 'bin/rbmctl'), '--version'], { env: npmEnv })).trim(), VERSION);

  // What the README says to do after an npm install: the unit from the package into the user's unit directory.
  manager.writeFile(`.local/share/systemd/user/${UNIT}`, readFileSync(join(appDir, 'systemd', UNIT)));
  await assertStartsAndAnswers(manager, ['start', UNIT]);
  const statusText = await manager.check(['systemctl', '--user', 'show', UNIT, '-p', 'StatusText', '--value']);
  assert.equal(statusText.trim(), '', 'no addon, so no STATUS= line: readiness never depended on it');
  await manager.check(['systemctl', '--user', 'stop', UNIT]);
});

test('npm run deb: dpkg installs it, a user enables and starts the unit, and a purge removes every file it installed', {
  skip, timeout: 240_000,
}, async (t) => {
  for (const program of [...PROGRAMS, 'lintian']) requireProgram(t, program);
  assertBuildIsFresh();
  const dir = scratchDir();
  const status = (): string => {
    try {
      return execFileSync('dpkg-query', ['-W', '-f=${db:Status-Status}', APP], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return 'not-installed';
    }
  };
  assert.equal(status(), 'not-installed', `${APP} is already installed on this machine: this test installs and purges it, so purge it first`);

  const out = execFileSync('bash', [join(PROJECT_DIR, 'scripts/build-deb.sh')], { cwd: PROJECT_DIR, env: { ...process.env, OUTDIR: join(dir, 'deb') }, encoding: 'utf8' });
  const deb = out.trim().split('\n').at(-1)!;
  assert.ok(existsSync(deb), `built ${deb}`);

  await t.test('lintian reports no error', () => {
    const lintian = execFileSync('lintian', ['--fail-on', 'error', deb], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.doesNotMatch(lintian, /^E: /m, lintian);
  });

  const contents = execFileSync('dpkg-deb', ['--contents', deb], { encoding: 'utf8' });
  const shipped = contents.split('\n').filter(Boolean).map((l) => l.slice(l.indexOf('./') + 1));
  for (const path of ['/usr/bin/rbmctl', `/usr/bin/${APP}`, `/usr/lib/${APP}/dist/bundle/daemon.js`, `/usr/lib/systemd/user/${UNIT}`,
    `/usr/share/dbus-1/services/${BUS_NAME}.service`, `/usr/share/dbus-1/interfaces/${MANAGER_INTERFACE}.xml`, '/usr/share/man/man1/rbmctl.1.gz',
    `/usr/share/man/man5/${APP}.yaml.5.gz`, '/usr/share/bash-completion/completions/rbmctl', '/usr/share/zsh/vendor-completions/_rbmctl',
    '/usr/share/fish/vendor_completions.d/rbmctl.fish', `/usr/share/doc/${APP}/copyright`, `/usr/share/doc/${APP}/changelog.Debian.gz`]) {
    assert.ok(shipped.includes(path), `the package ships ${path}`);
  }
  assert.deepEqual(shipped.filter((p) => /node_modules|node-gyp|\.map$|\/src\/|\/test\//.test(p)), [], 'no node_modules, build trees, maps or sources');

  t.after(() => { if (status() !== 'not-installed') execFileSync('dpkg', ['--purge', APP], { stdio: 'pipe' }); });
  execFileSync('dpkg', ['--install', deb], { stdio: 'pipe', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  assert.equal(status(), 'installed');
  const installed = execFileSync('dpkg-query', ['-L', APP], { encoding: 'utf8' }).split('\n').filter((p) => p.startsWith('/'));
  const files = installed.filter((p) => !lstatSync(p).isDirectory());
  const activation = readFileSync(`/usr/share/dbus-1/services/${BUS_NAME}.service`, 'utf8');
  assert.match(activation, new RegExp(`^Exec=/usr/bin/${APP}$`, 'm'), 'the activation file runs the installed program');
  assert.match(readFileSync(`/usr/lib/systemd/user/${UNIT}`, 'utf8'), new RegExp(`^ExecStart=/usr/bin/${APP}$`, 'm'));

  const manager = await startUserManager();
  t.after(() => manager.stop());
  await assertStartsAndAnswers(manager, ['enable', '--now', UNIT]);
  assert.ok(existsSync(join(manager.home, '.config/systemd/user/default.target.wants', UNIT)), 'enabled for the user');
  const rbmctl = await manager.run(['rbmctl', 'status']);
  assert.equal(rbmctl.code, 0, `/usr/bin/rbmctl status: ${rbmctl.stdout}${rbmctl.stderr}`);
  await manager.check(['systemctl', '--user', 'disable', '--now', UNIT]);

  execFileSync('dpkg', ['--purge', APP], { stdio: 'pipe' });
  assert.equal(status(), 'not-installed');
  assert.deepEqual(files.filter((p) => existsSync(p)), [], 'every file the package installed is gone');
  assert.deepEqual([`/usr/lib/${APP}`, `/usr/share/doc/${APP}`].filter((p) => existsSync(p)), [], 'and its own directories');
});

function allFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return allFiles(p);
    return e.isFile() ? [p] : [];
  });
}
