// rbmctl sync without the service: --standalone, and the automatic fallback when no service is on the bus,
// both running a real rclone bisync between two temp directories through the engine's one-shot mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { startPrivateBus } from '../helpers/dbus-daemon.js';
import { requireProgram, testRclone } from '../helpers/tools.js';

test('sync --standalone and the fallback when the service is not running run a real bisync', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone || !requireProgram(t, 'dbus-daemon')) return;
  const home = mkdtempSync(join(tmpdir(), 'rbm-oneshot-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const local = join(home, 'Sync', 'pair');
  const remote = join(home, 'remote');
  mkdirSync(local, { recursive: true });
  mkdirSync(remote, { recursive: true });
  writeFileSync(join(local, 'a.txt'), 'from local\n');
  writeFileSync(join(home, 'rclone.conf'), '');
  const config = join(home, 'config.yaml');
  writeFileSync(config, `local_base_path: ${join(home, 'Sync')}\nrclone_binary: ${rclone}\nsync_jobs:\n  pair:\n    local: pair\n    rclone_remote: ""\n    remote: ${remote}\n    schedule: "0 * * * *"\n`);
  const bus = await startPrivateBus();
  t.after(() => bus.stop());
  const env = { HOME: home, XDG_STATE_HOME: join(home, 'state'), PATH: process.env.PATH, RCLONE_CONFIG: join(home, 'rclone.conf'), DBUS_SESSION_BUS_ADDRESS: bus.address };
  const rbmctl = async (args: string[]) => {
    let out = '';
    const code = await main(args, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (out += s) }, stdin: process.stdin, env });
    return { code, out };
  };

  const first = await rbmctl(['--config', config, 'sync', '--standalone', 'pair']);
  assert.equal(first.code, 0, first.out);
  assert.match(first.out, /^pair: success/m);
  assert.equal(readFileSync(join(remote, 'a.txt'), 'utf8'), 'from local\n');

  writeFileSync(join(remote, 'b.txt'), 'from remote\n');
  const fallback = await rbmctl(['--config', config, 'sync', 'pair']);
  assert.equal(fallback.code, 0, fallback.out);
  assert.match(fallback.out, /^rbmctl: the service is not running; syncing once in this process$/m);
  assert.ok(existsSync(join(local, 'b.txt')));

  const unknown = await rbmctl(['--config', config, 'sync', '--standalone', 'nope']);
  assert.equal(unknown.code, 3);
});
