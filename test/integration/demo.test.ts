// The README's quick-start command, run as written in a fresh home: it brings the service up on a private bus
// (no systemd --user here), syncs the demo job with real rclone, shows the status, and is idempotent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/version.js';
import { run } from '../helpers/procs.js';
import { requireProgram } from '../helpers/tools.js';

test('scripts/demo.sh --once syncs the demo job and is idempotent', async (t) => {
  if (!requireProgram(t, 'dbus-daemon') || !requireProgram(t, 'rclone')) return;
  const home = mkdtempSync(join(tmpdir(), 'rbm-demo-home-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  // No reachable user manager (XDG_RUNTIME_DIR points nowhere): this test covers the private-bus path.
  const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: '', XDG_STATE_HOME: '', DBUS_SESSION_BUS_ADDRESS: '', XDG_RUNTIME_DIR: join(home, 'no-runtime-dir') };

  const first = await run('bash', [join(PROJECT_ROOT, 'scripts/demo.sh'), '--once'], { env });
  assert.equal(first.code, 0, first.stdout + first.stderr);
  const output = first.stdout + first.stderr;
  assert.match(output, /no systemd --user manager here/);
  assert.match(output, /demo: success \(run \d+\)/);
  assert.match(output, /^demo +idle +ok +success/m);

  const demo = join(home, 'rclone-bisync-demo');
  const expected = ['from-remote.txt', 'hello.txt'];
  assert.deepEqual(readdirSync(join(demo, 'local')).sort(), expected);
  assert.deepEqual(readdirSync(join(demo, 'remote')).filter((f) => f !== 'RCLONE_TEST').sort(), expected);
  for (const file of expected) {
    assert.equal(readFileSync(join(demo, 'local', file), 'utf8'), readFileSync(join(demo, 'remote', file), 'utf8'));
  }

  const second = await run('bash', [join(PROJECT_ROOT, 'scripts/demo.sh'), '--once'], { env });
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.match(second.stdout + second.stderr, /demo: no-changes \(run \d+\)/);
});
