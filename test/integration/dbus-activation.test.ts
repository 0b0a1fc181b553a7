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
  assert.equal(await main(['--no-auto-start', 'status'], io(quiet)), 69);
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
