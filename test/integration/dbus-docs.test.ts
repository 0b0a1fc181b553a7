// The README's "Scripting over D-Bus" examples (README.md) run as written, each line as a real
// shell command (busctl/gdbus/jq) against the D-Bus adapter on a private bus; the fake ControlApi stands in for the service.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUS_NAME, OBJECT_PATH } from '../../src/errors.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { startDbusServer } from '../../src/dbus/server.js';
import { nullLogger } from '../../src/ports.js';
import { startPrivateBus } from '../helpers/dbus-daemon.js';
import { createFakeControl } from '../helpers/fake-control.js';
import { follow, run } from '../helpers/procs.js';
import { requireProgram } from '../helpers/tools.js';

function exampleLines(): string[] {
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## Scripting over D-Bus');
  assert.ok(start >= 0, 'README has a Scripting over D-Bus section');
  const end = readme.indexOf('\n## ', start + 1);
  const text = readme.slice(start, end < 0 ? undefined : end);
  const blocks = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks.flatMap((b) => b.split('\n')).filter((l) => /^(busctl|gdbus) /.test(l) && !l.trimEnd().endsWith('&'));
}

test('every busctl and gdbus example in the scripting guide works', async (t) => {
  for (const p of ['dbus-daemon', 'busctl', 'gdbus', 'jq']) if (!requireProgram(t, p)) return;
  const bus = await startPrivateBus();
  t.after(() => bus.stop());
  const server = await startDbusServer(createFakeControl({ jobs: ['photos'] }), { busAddress: bus.address, logger: nullLogger });
  t.after(() => server.close());
  const env = { ...process.env, N: BUS_NAME, P: OBJECT_PATH, J: `${OBJECT_PATH}/job/photos`, ADDR: bus.address };
  const lines = exampleLines();
  assert.ok(lines.length >= 30, `${lines.length} examples`);
  for (const line of lines) {
    const command = line.replace(/--user/g, '--address="$ADDR"').replace(/--session/g, '--address "$ADDR"');
    if (command.includes(' monitor ')) {
      // Long-running: it must attach (print its banner) and then it is stopped.
      const monitor = follow('bash', ['-c', `exec ${command}`], env);
      try {
        await monitor.waitFor((l) => l.includes('Monitoring'), `the banner of: ${line}`);
      } finally {
        await monitor.stop();
      }
      continue;
    }
    const r = await run('bash', ['-o', 'pipefail', '-c', command], { env });
    assert.equal(r.code, 0, `${line}\n${r.stderr}`);
    if (!/^busctl .* (Pause|Resume|Cancel|Reload|RemoveJob|Snooze|Unsnooze)\b/.test(line)) assert.notEqual(r.stdout.trim(), '', `output of: ${line}`);
  }
});
