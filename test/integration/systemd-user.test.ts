// End to end under a real `systemd --user` with its own user bus (test/helpers/systemd-user.ts).
// Needs root where PID 1 is not systemd: runs under CI=true, skipped elsewhere when not root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { IN_CI, requireProgram } from '../helpers/tools.js';
import { bootedWithSystemd, cleanupLeftovers, startUserManager } from '../helpers/systemd-user.js';

const sessionMode = process.env.RBM_TEST_USER_SESSION === '1' && bootedWithSystemd();
const canRun = sessionMode || process.getuid?.() === 0;
const skip = !canRun && !IN_CI ? 'needs root (or RBM_TEST_USER_SESSION=1 on a machine booted with systemd)' : false;

test('the harness runs a real systemd --user, starts a Type=notify unit and leaves nothing behind', { skip }, async (t) => {
  for (const program of ['systemctl', 'systemd-notify', 'busctl', 'setpriv', 'useradd']) requireProgram(t, program);
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

  if (manager.mode === 'session') return;
  const { user, cgroupDir, runtimeDir, workDir } = manager;
  assert.ok(cgroupDir && existsSync(cgroupDir));
  stopped = true;
  await manager.stop();
  const passwd = await import('node:fs').then((fs) => fs.readFileSync('/etc/passwd', 'utf8'));
  assert.ok(!passwd.split('\n').some((l) => l.startsWith(`${user}:`)), `user ${user} is gone`);
  assert.ok(!existsSync(cgroupDir), `${cgroupDir} is gone`);
  assert.ok(!existsSync(runtimeDir), `${runtimeDir} is gone`);
  assert.ok(!existsSync(workDir), `${workDir} is gone`);
  assert.equal(existsSync('/run/systemd/system'), hadRunSystemd, '/run/systemd/system is as it was');
});
