// Shell completion for rbmctl in the real bash (with bash-completion), zsh and fish: job names come from the config
// file when the service is not running (and completing never starts it), from the service when it runs; `--`
// offers exactly the long options rbmctl's own --help lists. Then install-user puts the scripts and manual pages
// where the shells and man look without being told, and uninstall-user takes them away again.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUS_NAME } from '../../src/errors.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { startDbusServer, type DbusServer } from '../../src/dbus/server.js';
import { nullLogger } from '../../src/ports.js';
import { startPrivateBus, type PrivateBus } from '../helpers/dbus-daemon.js';
import { createFakeControl } from '../helpers/fake-control.js';
import { run } from '../helpers/procs.js';
import { BASH_COMPLETION, SHELLS, complete, type ShellSetup } from '../helpers/shell-completion.js';
import { IN_CI, findProgram } from '../helpers/tools.js';

const missing = ['bash', 'zsh', 'fish', 'dbus-daemon', 'man'].filter((p) => !findProgram(p));
if (!existsSync(BASH_COMPLETION)) missing.push('bash-completion');
if (missing.length > 0 && IN_CI) throw new Error(`CI=true and ${missing.join(', ')} missing (scripts/test.sh installs them)`);
const skip = missing.length > 0 ? `${missing.join(', ')} not installed` : false;

const COMPLETIONS = join(PROJECT_ROOT, 'completions');
const CONFIG_JOBS = ['documents', 'phones', 'photos'];

let dir: string;
let bus: PrivateBus;
let marker: string;
let setup: ShellSetup;

/** A config with three jobs, in the default place ($XDG_CONFIG_HOME/rclone-bisync-manager/config.yaml). */
function writeConfig(configHome: string): void {
  const jobs = CONFIG_JOBS.map((name) => `  ${name}:\n    local: ${name}\n    rclone_remote: ""\n    remote: ${join(dir, 'remote', name)}\n    schedule: "@daily"\n`);
  mkdirSync(join(configHome, 'rclone-bisync-manager'), { recursive: true });
  writeFileSync(join(configHome, 'rclone-bisync-manager', 'config.yaml'), `local_base_path: ${join(dir, 'local')}\nsync_jobs:\n${jobs.join('')}`);
}

/** The rbmctl the shells run: the real executable, from the sources. */
function writeRbmctl(binDir: string): void {
  mkdirSync(binDir, { recursive: true });
  const tsx = import.meta.resolve('tsx');
  writeFileSync(join(binDir, 'rbmctl'), `#!/bin/sh\nexec '${process.execPath}' --import '${tsx}' '${join(PROJECT_ROOT, 'src/bin/rbmctl.ts')}' "$@"\n`, { mode: 0o755 });
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'rbm-completion-'));
  // The bus could start the service: its activation file runs a program that leaves a marker. Completing must not.
  marker = join(dir, 'activated');
  const services = join(dir, 'services');
  mkdirSync(services);
  writeFileSync(join(services, `${BUS_NAME}.service`), `[D-BUS Service]\nName=${BUS_NAME}\nExec=/usr/bin/touch ${marker}\n`);
  bus = await startPrivateBus({ servicesDir: services });
  writeConfig(join(dir, 'config'));
  writeRbmctl(join(dir, 'bin'));
  setup = {
    dir,
    env: { PATH: `${join(dir, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: dir, XDG_CONFIG_HOME: join(dir, 'config'), XDG_DATA_HOME: join(dir, 'data'), DBUS_SESSION_BUS_ADDRESS: bus.address, TERM: 'dumb', LANG: 'C.UTF-8' },
    bashScript: join(COMPLETIONS, 'rbmctl.bash'),
    zshDir: COMPLETIONS,
    fishScript: join(COMPLETIONS, 'rbmctl.fish'),
  };
});
after(async () => {
  await bus?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The long options `rbmctl [COMMAND] --help` lists, with the --no- forms its descriptions name. */
async function helpOptions(command: string | undefined): Promise<string[]> {
  const result = await run(join(dir, 'bin', 'rbmctl'), [...(command ? [command] : []), '--help'], { env: setup.env });
  assert.equal(result.code, 0, result.stderr);
  const options = result.stdout.slice(result.stdout.indexOf('Options:'));
  const listed = [...options.matchAll(/^ +(?:-\w, )?(--[a-z-]+)/gm)].map((m) => m[1]!);
  const negated = [...options.matchAll(/\((--no-[a-z-]+):/g)].map((m) => m[1]!);
  return [...new Set([...listed, ...negated])].sort();
}

describe('rbmctl completion', { skip }, () => {
  for (const shell of SHELLS) {
    test(`${shell}: rbmctl sync ph<TAB> completes the config's jobs while the service is not running, and does not start it`, async () => {
      assert.deepEqual((await complete(shell, 'rbmctl sync ph', setup)).sort(), ['phones', 'photos']);
      assert.deepEqual((await complete(shell, 'rbmctl pause photos d', setup)).sort(), ['documents']);
      assert.deepEqual((await complete(shell, 'rbmctl st', setup)).sort(), ['status']);
      assert.equal(existsSync(marker), false, 'completing a job name started the service through bus activation');
    });

    test(`${shell}: --<TAB> offers exactly the long options rbmctl --help lists`, async () => {
      for (const command of [undefined, 'sync', 'add-job', 'history', 'approve', 'status']) {
        const line = command ? `rbmctl ${command} --` : 'rbmctl --';
        const offered = (await complete(shell, line, setup)).filter((o) => o.startsWith('--'));
        assert.deepEqual([...new Set(offered)].sort(), await helpOptions(command), line);
      }
    });
  }

  describe('with the service running', () => {
    let server: DbusServer;
    before(async () => {
      // The service knows other jobs than the file: completion must take the service's.
      server = await startDbusServer(createFakeControl({ jobs: ['phase', 'photon', 'zeta'] }), { busAddress: bus.address, logger: nullLogger });
    });
    after(async () => {
      await server?.close();
    });
    for (const shell of SHELLS) {
      test(`${shell}: rbmctl sync ph<TAB> completes the service's jobs`, async () => {
        assert.deepEqual((await complete(shell, 'rbmctl sync ph', setup)).sort(), ['phase', 'photon']);
        // add-sync is for jobs just written to the file: those come from the file.
        assert.deepEqual((await complete(shell, 'rbmctl add-sync ph', setup)).sort(), ['phones', 'photos']);
      });
    }
  });
});

describe('install-user puts completions and manual pages where the shells and man look', { skip }, () => {
  test('bash-completion, zsh (fpath line as printed), fish and man find them; uninstall-user removes them', async () => {
    const home = join(dir, 'home');
    mkdirSync(home);
    writeConfig(join(home, '.config'));
    const env = { PATH: `${join(home, '.local/bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: home, DBUS_SESSION_BUS_ADDRESS: bus.address, TERM: 'dumb', LANG: 'C.UTF-8' };
    const install = await run('bash', [join(PROJECT_ROOT, 'scripts/install-user.sh')], { env });
    assert.equal(install.code, 0, install.stderr);
    const zshDir = join(home, '.local/share/zsh/site-functions');
    assert.match(install.stdout, new RegExp(`fpath=\\(${zshDir} \\$fpath\\)`));

    const installed: ShellSetup = { dir: home, env, zshDir };
    for (const shell of SHELLS) {
      assert.deepEqual((await complete(shell, 'rbmctl sync ph', installed)).sort(), ['phones', 'photos'], shell);
    }
    const pages = await run('man', ['-w', 'rbmctl', 'rclone-bisync-manager', 'rclone-bisync-manager.yaml'], { env });
    assert.equal(pages.code, 0, pages.stderr);
    assert.deepEqual(pages.stdout.trim().split('\n'), [
      join(home, '.local/share/man/man1/rbmctl.1'),
      join(home, '.local/share/man/man1/rclone-bisync-manager.1'),
      join(home, '.local/share/man/man5/rclone-bisync-manager.yaml.5'),
    ]);
    const printed = await run('rbmctl', ['completion', 'zsh'], { env });
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stdout, /^#compdef rbmctl$/m);

    const uninstall = await run('bash', [join(PROJECT_ROOT, 'scripts/uninstall-user.sh')], { env });
    assert.equal(uninstall.code, 0, uninstall.stderr);
    // Only the user's config stays (and npm's own cache, if the install ran npm).
    assert.deepEqual(readdirSync(join(home, '.local')), ['share']);
    assert.deepEqual(readdirSync(join(home, '.local/share')), []);
    assert.equal(existsSync(marker), false);
  });
});
