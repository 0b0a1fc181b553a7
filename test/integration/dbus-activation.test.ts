// D-Bus activation: the shipped activation file (with its Exec= pointed at a stand-in service built on the fake
// ControlApi) lets the bus start the service on the first call; --no-auto-start does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUS_NAME, MANAGER_INTERFACE, OBJECT_PATH } from '../../src/errors.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { main } from '../../src/cli/main.js';
import { connectClient } from '../../src/dbus/client.js';
import { startPrivateBus } from '../helpers/dbus-daemon.js';
import { run } from '../helpers/procs.js';
import { requireProgram } from '../helpers/tools.js';

test('the first call starts the service through the activation file; --no-auto-start does not', async (t) => {
  if (!requireProgram(t, 'dbus-daemon') || !requireProgram(t, 'busctl')) return;
  const dir = mkdtempSync(join(tmpdir(), 'rbm-activation-'));
  const pidFile = join(dir, 'service.pid');
  t.after(() => {
    if (existsSync(pidFile)) {
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
      } catch {
        // already gone with its bus
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const shipped = readFileSync(join(PROJECT_ROOT, 'dbus', `${BUS_NAME}.service`), 'utf8');
  assert.match(shipped, /^Name=io\.github\.rbmanager\.RcloneBisyncManager1$/m);
  assert.match(shipped, /^Exec=@bindir@\/rclone-bisync-manager$/m);
  assert.match(shipped, /^SystemdService=rclone-bisync-manager\.service$/m);
  const tsx = import.meta.resolve('tsx');
  const fixture = join(PROJECT_ROOT, 'test/fixtures/bin/fake-service.ts');
  const exec = `Exec=${process.execPath} --import ${tsx} ${pathToFileURL(fixture).pathname} ${pidFile}`;
  writeFileSync(join(dir, `${BUS_NAME}.service`), shipped.replace(/^Exec=.*$/m, exec));

  const bus = await startPrivateBus({ servicesDir: dir });
  t.after(() => bus.stop());
  const io = (sink: { text: string }) => ({ stdout: { write: (s: string) => (sink.text += s) }, stderr: { write: (s: string) => (sink.text += s) }, stdin: process.stdin, env: { DBUS_SESSION_BUS_ADDRESS: bus.address } });

  const quiet = { text: '' };
  assert.equal(await main(['--no-auto-start', 'jobs'], io(quiet)), 69);
  assert.match(quiet.text, /service is not running/);
  assert.ok(!existsSync(pidFile), 'not started by a NO_AUTO_START call');

  const r = await run('busctl', [`--address=${bus.address}`, 'call', BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, 'ListJobs']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), `a(ssso) 1 "activated" "idle" "never" "${OBJECT_PATH}/job/activated"`);
  assert.ok(existsSync(pidFile), 'the activated service wrote its pid');
  const shown = { text: '' };
  assert.equal(await main(['--no-auto-start', 'jobs'], io(shown)), 0);
  assert.match(shown.text, /^activated +yes/m);
});

test('with only XDG_RUNTIME_DIR set rbmctl uses $XDG_RUNTIME_DIR/bus like busctl --user; status, jobs and history never start the service (status and history read the state directory), sync does; after a stop status does not bring it back', async (t) => {
  if (!requireProgram(t, 'dbus-daemon') || !requireProgram(t, 'busctl')) return;
  const runtimeDir = mkdtempSync(join(tmpdir(), 'rbm-runtime-'));
  const servicesDir = mkdtempSync(join(tmpdir(), 'rbm-activation-'));
  const home = mkdtempSync(join(tmpdir(), 'rbm-home-'));
  const pidFile = join(servicesDir, 'service.pid');
  const stopService = (): void => {
    if (!existsSync(pidFile)) return;
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
    } catch {
      // already gone with its bus
    }
  };
  t.after(() => {
    stopService();
    for (const dir of [runtimeDir, servicesDir, home]) rmSync(dir, { recursive: true, force: true });
  });
  const shipped = readFileSync(join(PROJECT_ROOT, 'dbus', `${BUS_NAME}.service`), 'utf8');
  const tsx = import.meta.resolve('tsx');
  const fixture = join(PROJECT_ROOT, 'test/fixtures/bin/fake-service.ts');
  writeFileSync(join(servicesDir, `${BUS_NAME}.service`), shipped.replace(/^Exec=.*$/m, `Exec=${process.execPath} --import ${tsx} ${pathToFileURL(fixture).pathname} ${pidFile}`));
  const bus = await startPrivateBus({ servicesDir, socketPath: join(runtimeDir, 'bus') });
  t.after(() => bus.stop());

  // What cron, `sudo -u` and `machinectl shell` give: no DBUS_SESSION_BUS_ADDRESS, only XDG_RUNTIME_DIR.
  const env = { PATH: process.env.PATH, HOME: home, XDG_STATE_HOME: join(home, 'state'), XDG_RUNTIME_DIR: runtimeDir };
  const rbmctl = (...args: string[]) => run(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/bin/rbmctl.ts'), ...args], { cwd: PROJECT_ROOT, env });
  const hasOwner = async (): Promise<string> => {
    const r = await run('busctl', ['--user', 'call', 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'NameHasOwner', 's', BUS_NAME], { env });
    assert.equal(r.code, 0, `busctl --user finds the bus from XDG_RUNTIME_DIR: ${r.stderr}`);
    return r.stdout.trim();
  };
  // jobs says the service is not running (69); status and history show what the state directory holds instead (this
  // HOME has no config: no jobs, so `status activated` is an unknown job, 3), saying the service is not running.
  const assertNotStartedBy = async (args: string[], code = 69): Promise<void> => {
    const r = await rbmctl(...args);
    assert.equal(r.code, code, `rbmctl ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    if (code === 69) assert.equal(r.stderr, 'rbmctl: the rclone-bisync-manager service is not running; start it with: systemctl --user start rclone-bisync-manager (or rbmctl daemon start).\n');
    else assert.equal(r.stderr.split('\n')[0], 'rbmctl: the service is not running; showing what its state directory holds');
    assert.ok(!existsSync(pidFile), `rbmctl ${args.join(' ')} did not start the service`);
    assert.equal(await hasOwner(), 'b false');
  };

  for (const [args, code] of [[['status'], 0], [['jobs'], 69], [['history'], 0], [['status', 'activated'], 3]] as const) await assertNotStartedBy([...args], code);

  const sync = await rbmctl('sync', 'activated');
  assert.equal(sync.code, 0, sync.stderr);
  assert.match(sync.stdout, /^queued: activated \(run \d+\)$/m);
  assert.ok(existsSync(pidFile), 'sync started the service through bus activation');
  assert.equal(await hasOwner(), 'b true');
  const status = await rbmctl('status');
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /^rclone-bisync-manager 0\.1\.0: running/m);
  assert.match(status.stdout, /^activated +/m);

  // Stop the service (as systemctl --user stop would) and wait until its name is gone from the bus.
  const watcher = await connectClient({ busAddress: bus.address, timeoutMs: 25_000, autoStart: false });
  t.after(() => watcher.close());
  let onGone: () => void = () => undefined;
  const gone = new Promise<void>((resolve) => (onGone = resolve));
  await watcher.subscribe((s) => {
    if (s.kind === 'service-gone') onGone();
  });
  stopService();
  await gone;
  rmSync(pidFile);
  await assertNotStartedBy(['jobs']);
  await assertNotStartedBy(['status'], 0);

  const again = await rbmctl('sync', 'activated');
  assert.equal(again.code, 0, again.stderr);
  assert.ok(existsSync(pidFile), 'an acting command starts it again');
});
