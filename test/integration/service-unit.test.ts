// The systemd user unit: `systemd-analyze verify --user` prints nothing, and its settings match what the daemon does.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULTS } from '../../src/config/parse.js';
import { STOP_GRACE_MS } from '../../src/run/runner.js';
import { BUS_NAME, MANAGER_INTERFACE, OBJECT_PATH } from '../../src/errors.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { requireProgram } from '../helpers/tools.js';

const unitPath = join(PROJECT_ROOT, 'systemd', 'rclone-bisync-manager.service');

function settings(): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of readFileSync(unitPath, 'utf8').split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) map.set(m[1]!, m[2]!);
  }
  return map;
}

test('systemd-analyze verify --user accepts the unit without a single message', (t) => {
  const analyze = requireProgram(t, 'systemd-analyze');
  if (!analyze) return;
  const dir = mkdtempSync(join(tmpdir(), 'rbm-unit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const home = join(dir, 'home');
  mkdirSync(join(home, '.local', 'bin'), { recursive: true });
  mkdirSync(join(dir, 'run'), { mode: 0o700 });
  // ExecStart= must point at an executable for verify; %h resolves to $HOME.
  const exe = join(home, '.local', 'bin', 'rclone-bisync-manager');
  writeFileSync(exe, '#!/bin/sh\n');
  chmodSync(exe, 0o755);
  let out: string;
  try {
    out = execFileSync(analyze, ['verify', '--user', unitPath], {
      env: { ...process.env, HOME: home, XDG_RUNTIME_DIR: join(dir, 'run') },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e: unknown) {
    const err = e as { stdout?: string; stderr?: string };
    assert.fail(`systemd-analyze verify failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
  assert.equal(out, '');
});

test('the unit is Type=dbus (ready = our bus name is owned, no addon needed), takes sd_notify from the main process and reloads through the service', () => {
  const s = settings();
  assert.equal(s.get('Type'), 'dbus');
  assert.equal(s.get('NotifyAccess'), 'main');
  assert.equal(s.get('BusName'), BUS_NAME);
  assert.equal(s.get('ExecReload'), `/usr/bin/busctl --user call ${BUS_NAME} ${OBJECT_PATH} ${MANAGER_INTERFACE} Reload`);
  assert.equal(s.get('KillMode'), 'mixed');
  assert.equal(s.get('Restart'), 'on-failure');
  assert.match(s.get('SystemCallFilter') ?? '', /@pkey/);
  // Only a bad command line is beyond a restart (src/errors.ts DAEMON_EXIT_TABLE); a bad config is reported, not fatal.
  assert.equal(s.get('RestartPreventExitStatus'), '2 69');
});

// user@.service stops the whole user manager within TimeoutStopSec=120s at logout and poweroff (Debian 12).
const USER_MANAGER_STOP_SEC = 120;

test('a stop fits inside the user manager\'s window: default shutdown_grace + rclone\'s graceful stop < TimeoutStopSec < 120 s', () => {
  const s = settings();
  const timeout = /^(\d+)s$/.exec(s.get('TimeoutStopSec') ?? '');
  assert.ok(timeout, `TimeoutStopSec is written in seconds: ${s.get('TimeoutStopSec')}`);
  const timeoutSec = Number(timeout[1]);
  const worstStopSec = DEFAULTS.shutdownGraceSec + STOP_GRACE_MS / 1000;
  // Some seconds between the last rclone exit and systemd's SIGKILL, for the service to record the runs and exit.
  assert.ok(timeoutSec - worstStopSec >= 5, `${worstStopSec} s of grace and rclone stop leave at least 5 s in ${timeoutSec} s`);
  assert.ok(timeoutSec <= USER_MANAGER_STOP_SEC - 10, `${timeoutSec} s leaves the user manager time to stop the rest`);
});

test('the unit has no ordering a user manager cannot honour, and RestrictSUIDSGID=yes', () => {
  const text = readFileSync(unitPath, 'utf8');
  // network-online.target exists only in the system manager; in a user unit the After= does nothing.
  assert.doesNotMatch(text, /network-online\.target/);
  assert.equal(settings().get('RestrictSUIDSGID'), 'yes');
});
