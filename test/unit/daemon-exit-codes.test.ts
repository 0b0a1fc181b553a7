// The service's own exit codes are one table (src/errors.ts DAEMON_EXIT_TABLE): the unit's RestartPreventExitStatus=
// lists exactly the codes a restart cannot cure, docs/service.md lists every code, and the daemon returns them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DAEMON_EXIT_TABLE, ERROR_TABLE, daemonExitCode } from '../../src/errors.js';
import { runDaemon, type DaemonPlatform } from '../../src/service/daemon.js';

const unitText = readFileSync(new URL('../../systemd/rclone-bisync-manager.service', import.meta.url), 'utf8');
const serviceDoc = readFileSync(new URL('../../docs/service.md', import.meta.url), 'utf8');

/** Every value of `key=` in the unit (systemd accumulates repeated assignments). */
function unitValues(key: string): string[] {
  return unitText
    .split('\n')
    .filter((line) => line.startsWith(`${key}=`))
    .flatMap((line) => line.slice(key.length + 1).trim().split(/\s+/));
}

test('RestartPreventExitStatus= names exactly the exit codes a restart cannot cure', () => {
  const incurable = Object.values(DAEMON_EXIT_TABLE).filter((e) => !e.restartCures).map((e) => String(e.code));
  assert.ok(incurable.length > 0, 'the table has at least one code a restart cannot cure');
  assert.deepEqual(unitValues('RestartPreventExitStatus').sort(), incurable.sort());
});

test('docs/service.md documents every exit code of the service, and no other', () => {
  const section = serviceDoc.slice(serviceDoc.indexOf('### Exit codes'));
  const table = section.slice(0, section.indexOf('\n\n', section.indexOf('|')));
  const documented = [...table.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
  assert.deepEqual(documented.sort((a, b) => a - b), Object.values(DAEMON_EXIT_TABLE).map((e) => e.code).sort((a, b) => a - b));
});

test('the service exit codes that overlap rbmctl codes mean the same kind of failure', () => {
  // 2 and 70 are shared with rbmctl (usage, internal); keep them aligned so scripts read one meaning.
  assert.equal(daemonExitCode('Usage'), ERROR_TABLE.InvalidArgs[1]);
  assert.equal(daemonExitCode('Internal'), ERROR_TABLE.Internal[1]);
});

test('bin/require-node.js exits with the NodeTooOld code', () => {
  const script = readFileSync(new URL('../../bin/require-node.js', import.meta.url), 'utf8');
  assert.match(script, new RegExp(`const EX_UNAVAILABLE = ${daemonExitCode('NodeTooOld')};`));
});

test('a bad command line exits with the Usage code and says how to get help', async () => {
  let stderr = '';
  const platform = { stderr: (t: string) => void (stderr += t), stdout: () => undefined } as unknown as DaemonPlatform;
  const code = await runDaemon(['--no-such-option'], platform);
  assert.equal(code, daemonExitCode('Usage'));
  assert.match(stderr, /--no-such-option/);
  assert.match(stderr, /rclone-bisync-manager --help/);
});
