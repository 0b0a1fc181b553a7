// End to end under a real `systemd --user` with its own user bus (test/helpers/systemd-user.ts): the product as users
// run it, installed with install-user.sh, started with systemctl, driven with rbmctl, busctl and gdbus.
// Needs root where PID 1 is not systemd: runs under CI=true, skipped elsewhere when not root.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { accessSync, chmodSync, constants, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { BUS_NAME, MANAGER_INTERFACE, OBJECT_PATH } from '../../src/errors.js';
import { IN_CI, requireProgram, testRclone } from '../helpers/tools.js';
import { bootedWithSystemd, cleanupLeftovers, startUserManager, type UserManager } from '../helpers/systemd-user.js';

const PROJECT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const UNIT = 'rclone-bisync-manager.service';
const sessionMode = process.env.RBM_TEST_USER_SESSION === '1' && bootedWithSystemd();
const canRun = sessionMode || process.getuid?.() === 0;
const skip = !canRun && !IN_CI ? 'needs root (or RBM_TEST_USER_SESSION=1 on a machine booted with systemd)' : false;
const SYSTEM_PROGRAMS = ['systemctl', 'systemd-notify', 'systemd-analyze', 'busctl', 'gdbus', 'setpriv', 'useradd'];

test('the harness runs a real systemd --user, starts a Type=notify unit and leaves nothing behind', { skip }, async (t) => {
  for (const program of SYSTEM_PROGRAMS) requireProgram(t, program);
  await cleanupLeftovers(); // first, so that what we compare against is the machine's own state
  const hadRunSystemd = existsSync('/run/systemd/system');
  const manager = await startUserManager();
  let stopped = false;
  t.after(async () => { if (!stopped) await manager.stop(); });

  manager.writeFile('.config/systemd/user/rbm-probe.service', [
    '[Service]', 'Type=notify', 'NotifyAccess=all',
    "ExecStart=/bin/sh -c 'systemd-notify --ready --status=probe-ready; exec sleep 600'", '',
  ].join('\n'));
  await manager.check(['systemctl', '--user', 'daemon-reload']);
  await manager.check(['systemctl', '--user', 'start', 'rbm-probe.service']);
  assert.equal((await manager.run(['systemctl', '--user', 'is-active', 'rbm-probe.service'])).stdout.trim(), 'active');
  const status = await manager.run(['systemctl', '--user', 'show', '-p', 'StatusText', '--value', 'rbm-probe.service']);
  assert.equal(status.stdout.trim(), 'probe-ready');
  // The user bus answers too (dbus.socket of dbus-user-session).
  const names = await manager.check(['busctl', '--user', 'list', '--no-pager', '--no-legend']);
  assert.match(names, /org\.freedesktop\.DBus/);

  if (manager.mode === 'session') {
    await manager.run(['systemctl', '--user', 'stop', 'rbm-probe.service']);
    return;
  }
  const { user, cgroupDir, runtimeDir, workDir } = manager;
  assert.ok(cgroupDir && existsSync(cgroupDir));
  stopped = true;
  await manager.stop();
  const passwd = readFileSync('/etc/passwd', 'utf8');
  assert.ok(!passwd.split('\n').some((l) => l.startsWith(`${user}:`)), `user ${user} is gone`);
  assert.ok(!existsSync(cgroupDir), `${cgroupDir} is gone`);
  assert.ok(!existsSync(runtimeDir), `${runtimeDir} is gone`);
  assert.ok(!existsSync(workDir), `${workDir} is gone`);
  assert.equal(existsSync('/run/systemd/system'), hadRunSystemd, '/run/systemd/system is as it was');
});

const productReady = ['systemd/rclone-bisync-manager.service', 'dist/bundle/daemon.js', 'dist/bundle/rbmctl.js', 'examples/config.yaml']
  .every((p) => existsSync(join(PROJECT_DIR, p))) && existsSync(join(PROJECT_DIR, 'dbus'))
  && readdirSync(join(PROJECT_DIR, 'dbus')).some((name) => name.endsWith('.service'));

test('installed with install-user.sh, the service works under systemd --user from start to uninstall', {
  skip: skip || (productReady ? false : 'the service, its unit and the D-Bus files are not built yet (npm run build)'),
  timeout: 170_000,
}, async (t) => {
  for (const program of SYSTEM_PROGRAMS) requireProgram(t, program);
  const rcloneSource = requireProgram(t, 'rclone', testRclone());
  if (!rcloneSource) return;
  assertBuildIsFresh();

  const manager = await startUserManager();
  t.after(() => manager.stop());
  const { home, workDir } = manager;
  const e2e = createE2e(t, manager);
  const configPath = join(home, '.config/rclone-bisync-manager/config.yaml');
  const stateDir = join(home, '.local/state/rclone-bisync-manager');
  if (manager.mode === 'session') {
    // Your own session: never touch an existing install, config or state; remove the ones this test creates.
    const mine = [dirname(configPath), stateDir, join(home, '.local/lib/rclone-bisync-manager')];
    const existing = mine.filter((p) => existsSync(p));
    if (existing.length > 0) {
      t.skip(`RBM_TEST_USER_SESSION=1 but ${existing.join(', ')} exist: this test will not touch a real install`);
      return;
    }
    t.after(() => { for (const p of mine) rmSync(p, { recursive: true, force: true }); });
  }

  // ---- stage readable copies of the app, node and rclone, then install as the user -------------------------------
  const stage = join(workDir, 'stage');
  stageProject(stage);
  const nodeBin = readableBinary(manager, process.execPath, join(workDir, 'node', 'bin', 'node'));
  const rclone = readableBinary(manager, rcloneSource, join(workDir, 'rclone', 'rclone'));
  const env = { PATH: `${home}/.local/bin:${dirname(nodeBin)}:/usr/local/bin:/usr/bin:/bin`, NODE: nodeBin };

  const installed = await manager.run(['bash', join(stage, 'scripts', 'install-user.sh')], { env });
  assert.equal(installed.code, 0, `install-user.sh failed:\n${installed.stdout}${installed.stderr}`);
  // Where units of packages installed in the home belong; ~/.config/systemd/user is the user's own (drop-ins below).
  const unitPath = join(home, '.local/share/systemd/user', UNIT);
  assert.ok(!existsSync(join(home, '.config/systemd/user', UNIT)), 'nothing installed into the user\'s own unit directory');
  for (const path of [unitPath, join(home, '.local/bin/rbmctl'), join(home, '.local/bin/rclone-bisync-manager'), configPath]) {
    assert.ok(existsSync(path), `install created ${path}`);
  }
  assert.equal(statSync(configPath).mode & 0o777, 0o600, 'the config is private');
  assert.equal(statSync(dirname(configPath)).mode & 0o777, 0o700, 'the config directory is private');
  assert.equal(readdirSync(join(home, '.local/share/dbus-1/services')).length, 1, 'one activation file installed');
  assert.ok(readdirSync(join(home, '.local/share/dbus-1/interfaces')).some((f) => f.endsWith('.xml')), 'interface XML installed');
  const manifestPath = join(home, '.local/lib/rclone-bisync-manager/install-manifest');
  const firstManifest = readText(manifestPath);
  manager.writeFile(configPath, '# mine\n', 0o600);
  const again = await manager.run(['bash', join(stage, 'scripts', 'install-user.sh')], { env });
  assert.equal(again.code, 0, `install-user.sh (again) failed:\n${again.stdout}${again.stderr}`);
  assert.equal(readText(manifestPath), firstManifest, 'installing twice installs the same');
  assert.equal(readText(configPath), '# mine\n', 'an existing config is never overwritten');

  await t.test('systemd-analyze verify passes on the installed unit, without a word', async () => {
    const verify = await manager.run(['systemd-analyze', 'verify', '--user', unitPath], { env });
    assert.equal(`${verify.stdout}${verify.stderr}`, '', 'verify prints nothing');
    assert.equal(verify.code, 0);
  });

  // ---- the test's own config and a drop-in for logs (no journald here) and a quick restart -----------------------
  const data = join(workDir, 'data'); // the synced folders: inside the work dir, removed with it
  const local = join(data, 'Sync', 'demo');
  const remote = join(data, 'Remote', 'demo');
  const writeConfig = (extra: { bwlimit?: string; secondJob?: boolean } = {}): void => {
    // One transfer at a time, so an interruption waits for at most one file.
    const options = extra.bwlimit ? `    rclone_options:\n      bwlimit: "${extra.bwlimit}"\n      transfers: 1\n` : '';
    const second = extra.secondJob
      ? `  second:\n    local: second\n    rclone_remote: ""\n    remote: ${join(data, 'Remote', 'second')}\n    schedule: "0 0 1 1 *"\n`
      : '';
    manager.writeFile(configPath, [
      `local_base_path: ${join(data, 'Sync')}`,
      `rclone_binary: ${rclone}`,
      'shutdown_grace: 0', // a stop interrupts running syncs at once instead of letting them finish
      'sync_jobs:',
      '  demo:',
      '    local: demo',
      '    rclone_remote: ""',
      `    remote: ${remote}`,
      '    schedule: "0 0 1 1 *"',
      options + second,
    ].join('\n'), 0o600);
  };
  writeConfig();
  for (const dir of [local, remote, join(data, 'Sync', 'second'), join(data, 'Remote', 'second')]) manager.writeFile(join(dir, '.keep'), '');
  for (let i = 0; i < 5; i++) manager.writeFile(join(local, `note-${i}.txt`), `demo file ${i}\n`);
  manager.writeFile(join(home, '.config/systemd/user', `${UNIT}.d`, 'test.conf'),
    '[Service]\nStandardOutput=append:%h/service.log\nStandardError=append:%h/service.log\nRestartSec=1\n');
  await manager.check(['systemctl', '--user', 'daemon-reload']);
  t.after(() => { if (process.exitCode) console.error(`service.log:\n${readText(join(home, 'service.log'))}`); });

  const monitor = await e2e.monitor();

  await t.test('systemctl --user start returns once the service is ready and shows its STATUS line', async () => {
    await e2e.checked(['systemctl', '--user', 'start', UNIT]);
    const show = await e2e.show(['ActiveState', 'SubState', 'StatusText', 'Type', 'MainPID']);
    assert.equal(show.Type, 'dbus');
    assert.equal(show.ActiveState, 'active', 'active right when start returned (the bus name was owned first)');
    // The staged app carries the sd-notify addon built in the checkout: STATUS= still reaches systemd.
    assert.equal(show.SubState, 'running');
    assert.notEqual(show.StatusText, '', 'the service sent STATUS=');
    const status = await manager.run(['systemctl', '--user', 'status', '--no-pager', UNIT]);
    assert.match(status.stdout, /Status: ".+"/);
  });

  await t.test('rbmctl, busctl --user and gdbus all reach it', async () => {
    const rbmctl = await manager.run(['rbmctl', 'status'], { env });
    assert.equal(rbmctl.code, 0, `rbmctl status: ${rbmctl.stdout}${rbmctl.stderr}`);
    assert.match(rbmctl.stdout, /demo/);
    const busctl = await e2e.checked(['busctl', '--user', '--json=short', 'call', BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, 'Status']);
    assert.equal((JSON.parse(busctl) as { type: string }).type, 'a{sv}');
    const gdbus = await e2e.checked(['gdbus', 'call', '--session', '--dest', BUS_NAME, '--object-path', OBJECT_PATH,
      '--method', 'org.freedesktop.DBus.Properties.Get', MANAGER_INTERFACE, 'Version']);
    assert.match(gdbus, /^\(<'\d+\.\d+\.\d+.*'>,\)$/m);
  });

  await t.test('a sync of the demo job with real rclone completes and JobFinished is seen', async () => {
    const runId = await e2e.sync('demo');
    const finished = await monitor.finished(runId);
    assert.equal(finished.name, 'demo');
    assert.ok(['success', 'no-changes'].includes(finished.result), `result ${finished.result}`);
    assert.deepEqual(tree(remote), tree(local), 'both sides hold the same files');
  });

  await t.test('systemctl --user reload applies an edited config', async () => {
    assert.doesNotMatch(await e2e.listJobs(), /"second"/);
    writeConfig({ secondJob: true });
    await e2e.checked(['systemctl', '--user', 'reload', UNIT]);
    assert.match(await e2e.listJobs(), /"second"/, 'the new job is there once reload returned');
    writeConfig();
    await e2e.checked(['systemctl', '--user', 'reload', UNIT]);
  });

  await t.test('with the service stopped, a busctl call starts it through D-Bus activation and is answered', async () => {
    await e2e.checked(['systemctl', '--user', 'stop', UNIT]);
    assert.equal((await manager.run(['systemctl', '--user', 'is-active', UNIT])).stdout.trim(), 'inactive');
    const reply = await e2e.checked(['busctl', '--user', '--json=short', 'get-property', BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, 'Version']);
    assert.equal((JSON.parse(reply) as { type: string }).type, 's');
    // Type=dbus: the unit turns active when systemd sees the name owned, which may come just after the reply.
    const state = (await manager.run(['systemctl', '--user', 'is-active', UNIT])).stdout.trim();
    assert.ok(state === 'activating' || state === 'active', `systemd started the unit (${state})`);
    await e2e.waitFor('the activated unit is active', async () =>
      (await manager.run(['systemctl', '--user', 'is-active', UNIT])).stdout.trim() === 'active');
  });

  await t.test('systemctl --user stop during a long transfer stops cleanly, and the next start finishes the job intact', async () => {
    writeConfig({ bwlimit: '1M' });
    await e2e.checked(['systemctl', '--user', 'reload', UNIT]);
    addBigFiles(manager, local, 'stop', 8);
    const runId = await e2e.sync('demo');
    await e2e.rcloneRunning();
    await e2e.checked(['systemctl', '--user', 'stop', UNIT]);
    const show = await e2e.show(['Result', 'ActiveState', 'TimeoutStopUSec']);
    assert.equal(show.Result, 'success', `stopped within TimeoutStopSec=${show.TimeoutStopUSec}, not killed`);
    assert.deepEqual(e2e.rclonePids(), [], 'no rclone left behind');
    const copied = readdirSync(remote).filter((f) => f.startsWith('stop-')).length;
    assert.ok(copied < 8, `the stop interrupted the transfer (${copied} of 8 files were across)`);
    const interrupted = monitor.seen(runId);
    t.diagnostic(`the interrupted run ended ${interrupted?.result ?? 'without JobFinished'}`);
    if (interrupted?.result === 'success') {
      // rclone ≥ 1.66 may wrap up cleanly within its grace (`Bisync successful`): the record then says what rclone did
      // and that a stop was requested (issue 13.3); the files it had not started sync at the next start.
      const records = readText(join(stateDir, 'jobs/demo/history.jsonl')).trim().split('\n').map((l) => JSON.parse(l) as { runId: number; message: string });
      const record = records.find((r) => BigInt(r.runId) === runId);
      assert.match(record?.message ?? '', /a stop was requested/, 'a run that was stopped never claims success without saying so');
    }

    writeConfig();
    await e2e.checked(['systemctl', '--user', 'start', UNIT]);
    await e2e.syncUntilSettled('demo', monitor);
    assert.deepEqual(tree(remote), tree(local), 'every file is intact on both sides');
  });

  await t.test('kill -9 of the main process: systemd restarts it and the interrupted job recovers', async () => {
    writeConfig({ bwlimit: '1M' });
    await e2e.checked(['systemctl', '--user', 'reload', UNIT]);
    addBigFiles(manager, local, 'kill', 8);
    const before = await e2e.show(['MainPID', 'NRestarts']);
    await e2e.sync('demo');
    await e2e.rcloneRunning();
    writeConfig(); // the restarted service runs without the bandwidth limit
    const orphans = e2e.rclonePids();
    process.kill(Number(before.MainPID), 'SIGKILL');
    await e2e.waitFor('systemd restarted the service', async () => {
      const now = await e2e.show(['MainPID', 'NRestarts', 'ActiveState']);
      return now.ActiveState === 'active' && now.MainPID !== before.MainPID && Number(now.NRestarts) > Number(before.NRestarts);
    });
    assert.deepEqual(orphans.filter((pid) => existsSync(`/proc/${pid}`)), [], 'systemd killed the orphaned rclone (KillMode=mixed)');
    await e2e.syncUntilSettled('demo', monitor);
    assert.deepEqual(tree(remote), tree(local), 'every file is intact on both sides');
  });

  await t.test('uninstall removes the app and keeps the config and the state', async () => {
    const manifest = readText(manifestPath);
    const installedPaths = manifest.split('\n').filter((l) => /^(file|tree) /.test(l)).map((l) => l.slice(l.indexOf(' ') + 1));
    const userFiles = allFiles(home).filter((f) => !installedPaths.some((p) => f === p || f.startsWith(`${p}/`)));
    const uninstalled = await manager.run(['bash', join(stage, 'scripts', 'uninstall-user.sh')], { env });
    assert.equal(uninstalled.code, 0, `uninstall-user.sh failed:\n${uninstalled.stdout}${uninstalled.stderr}`);
    for (const path of installedPaths) assert.ok(!existsSync(path), `${path} was removed`);
    const gone = userFiles.filter((f) => !existsSync(f) && !f.endsWith('.log') && !f.includes(`${UNIT}.d`));
    assert.deepEqual(gone, [], 'config, state and synced files stay');
    assert.ok(existsSync(configPath), 'the config stays');
    assert.ok(existsSync(join(stateDir, 'jobs', 'demo')), 'the job state stays');
    assert.equal((await manager.run(['systemctl', '--user', 'is-active', UNIT])).stdout.trim() === 'active', false);
  });
});

// ---------------------------------------------------------------------------------------------------------------

interface Finished { name: string; runId: bigint; result: string }

function createE2e(t: TestContext, manager: UserManager) {
  const deadline = (ms: number): number => Date.now() + ms;
  const e2e = {
    async checked(cmd: string[]): Promise<string> {
      return manager.check(cmd);
    },
    async show(props: string[]): Promise<Record<string, string>> {
      const out = await manager.check(['systemctl', '--user', 'show', UNIT, ...props.flatMap((p) => ['-p', p])]);
      return Object.fromEntries(out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    },
    async waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
      const end = deadline(timeoutMs);
      while (Date.now() < end) {
        if (await check()) return;
        await sleep(100);
      }
      throw new Error(`timed out waiting until ${what}\nservice.log:\n${readText(join(manager.home, 'service.log')).slice(-4000)}`);
    },
    /** Sync one job over the bus; resolves with the run id. */
    async sync(job: string): Promise<bigint> {
      const out = await manager.check(['busctl', '--user', '--json=short', 'call', BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE,
        'Sync', 'asa{sv}', '1', job, '0']);
      const ids = (JSON.parse(out) as { data: [Array<number | string>] }).data[0];
      assert.equal(ids.length, 1);
      return BigInt(ids[0]!);
    },
    async listJobs(): Promise<string> {
      return manager.check(['busctl', '--user', '--json=short', 'call', BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, 'ListJobs']);
    },
    rclonePids(): number[] {
      return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).filter((pid) => {
        const status = readText(`/proc/${pid}/status`);
        return /^Name:\s+rclone$/m.test(status) && new RegExp(`^Uid:\\s+${manager.uid}\\s`, 'm').test(status);
      }).map(Number);
    },
    async rcloneRunning(): Promise<void> {
      await e2e.waitFor('rclone is transferring', () => e2e.rclonePids().length > 0);
      await sleep(1500); // let it get into the transfers, so the interruption lands mid-file
    },
    /** Sync until a run ends in success/no-changes (an interrupted run may first need its own recovery run). */
    async syncUntilSettled(job: string, monitor: Monitor): Promise<void> {
      for (let attempt = 0; attempt < 4; attempt++) {
        let runId: bigint;
        try {
          runId = await e2e.sync(job);
        } catch (e: unknown) {
          if (!String(e).includes('AlreadyRunning')) throw e;
          await e2e.waitFor('the running sync ends', async () => !(await e2e.listJobs()).includes('"running"'), 60_000);
          continue;
        }
        const finished = await monitor.finished(runId);
        if (finished.result === 'success' || finished.result === 'no-changes') return;
        t.diagnostic(`run ${runId} of ${job} ended ${finished.result}; syncing again`);
      }
      throw new Error(`${job} did not settle`);
    },
    async monitor(): Promise<Monitor> {
      return startMonitor(manager, (what, check, ms) => e2e.waitFor(what, check, ms));
    },
  };
  return e2e;
}

interface Monitor {
  finished(runId: bigint): Promise<Finished>;
  seen(runId: bigint): Finished | undefined;
}

/** busctl --user monitor for JobFinished, ready once it has seen a probe signal of our own. */
async function startMonitor(manager: UserManager, waitFor: (what: string, check: () => boolean, ms?: number) => Promise<void>): Promise<Monitor> {
  const probe = `io.rbmtest.Probe${randomBytes(4).toString('hex')}`;
  const child = manager.spawn(['busctl', '--user', 'monitor', '--json=short',
    '--match', `type='signal',interface='${MANAGER_INTERFACE}',member='JobFinished'`, '--match', `type='signal',interface='${probe}'`]);
  const events: Finished[] = [];
  let probed = false;
  let buffer = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      const msg = JSON.parse(line) as { interface?: string; member?: string; payload?: { data: unknown[] } };
      if (msg.interface === probe) probed = true;
      if (msg.member === 'JobFinished' && msg.payload) {
        const [, name, runId, result] = msg.payload.data as [string, string, number | string, string];
        events.push({ name, runId: BigInt(runId), result });
      }
    }
  });
  await waitFor('busctl monitor listens', () => {
    if (!probed) void manager.run(['busctl', '--user', 'emit', '/io/rbmtest', probe, 'Ping']);
    return probed;
  }, 15_000);
  return {
    seen: (runId) => events.find((e) => e.runId === runId),
    async finished(runId) {
      await waitFor(`JobFinished for run ${runId}`, () => events.some((e) => e.runId === runId), 90_000);
      return events.find((e) => e.runId === runId)!;
    },
  };
}

function assertBuildIsFresh(): void {
  const built = statSync(join(PROJECT_DIR, 'dist/bundle/daemon.js')).mtimeMs;
  const newer = allFiles(join(PROJECT_DIR, 'src')).filter((f) => statSync(f).mtimeMs > built);
  assert.deepEqual(newer, [], 'dist/ is older than src/: run npm run build first (scripts/test.sh does)');
}

/** A copy of what install-user.sh needs, readable by the test user (the checkout may sit in root's home). */
function stageProject(stage: string): void {
  mkdirSync(stage, { recursive: true });
  const parts = ['package.json', 'package-lock.json', 'bin', 'dist', 'scripts', 'systemd', 'dbus', 'examples', 'completions', 'man'];
  execFileSync('cp', ['-R', ...parts.filter((p) => existsSync(join(PROJECT_DIR, p))).map((p) => join(PROJECT_DIR, p)), stage]);
  execFileSync(process.execPath, [join(PROJECT_DIR, 'scripts/copy-prod-modules.mjs'), PROJECT_DIR, join(stage, 'node_modules')]);
  execFileSync('chmod', ['-R', 'a+rX', stage]);
}

/** The binary itself when the test user can run it, else a copy in a place it can read. */
function readableBinary(manager: UserManager, path: string, copy: string): string {
  if (manager.mode === 'session' || worldExecutable(path)) return path;
  mkdirSync(dirname(copy), { recursive: true, mode: 0o755 });
  copyFileSync(path, copy);
  chmodSync(copy, 0o755);
  return copy;
}

function worldExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    for (let p = path; p !== '/'; p = dirname(p)) {
      const mode = statSync(p).mode;
      if ((mode & 0o001) === 0) return false;
    }
    return (statSync(path).mode & 0o004) !== 0;
  } catch {
    return false;
  }
}

function addBigFiles(manager: UserManager, dir: string, prefix: string, count: number): void {
  for (let i = 0; i < count; i++) manager.writeFile(join(dir, `${prefix}-${i}.bin`), randomBytes(1024 * 1024));
}

/** relative path → sha256 of every file under dir, the bisync work files aside. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const file of allFiles(dir)) {
    const rel = relative(dir, file);
    if (rel.endsWith('.partial') || rel.includes('.rclone')) continue;
    out[rel] = createHash('sha256').update(readFileSync(file)).digest('hex');
  }
  return out;
}

function allFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return allFiles(p);
    return e.isFile() ? [p] : [];
  });
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

