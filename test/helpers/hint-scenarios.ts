// Issue 14: a hint that leaves the engine names the job. The real service on a private bus with real rclone; a
// safety abort's hint ("approve exactly that list with: rbmctl approve JOB") is read where users and scripts see it:
// the JobFinished signal as gdbus monitor prints it, and History as busctl returns it. Shared by
// test/integration/hints-dbus.test.ts (current rclone) and test/compat/hints-dbus.test.ts (Debian's 1.60).
import assert from 'node:assert/strict';
import { unlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { BUS_NAME, MANAGER_INTERFACE, OBJECT_PATH } from '../../src/errors.js';
import { hashOf, treeHashes, writeFiles } from './engine-env.js';
import { follow, run } from './procs.js';
import { createServiceEnv, statusMatching, type Suite } from './service-env.js';

const JOB = 'photos-2024';
const MTIME = 1_700_000_000;
const NAMES = Array.from({ length: 20 }, (_, i) => `f${String(i + 1).padStart(2, '0')}.txt`);
const content = (name: string): string => `content of ${name}\n`;
const hashes = (names: readonly string[]): Record<string, string> => Object.fromEntries([...names].sort().map((n) => [n, hashOf(content(n))]));

interface HistoryEntry {
  run_id: { data: number };
  result: { data: string };
  hint: { data: string };
}

/** Safety abort → the hint in JobFinished (gdbus monitor) and in History (busctl) says `rbmctl approve photos-2024`. */
export async function safetyAbortHintNamesTheJob(t: TestContext, suite: Suite): Promise<void> {
  const address = suite.bus().address;
  const env = await createServiceEnv(t, { rclone: suite.rclone!, busAddress: address });
  env.writeConfig(env.configText([{ name: JOB, extra: '    rclone_options:\n      max-delete: 25' }]));
  const local = join(env.syncRoot, 'local', JOB);
  const remote = join(env.syncRoot, 'remote', JOB);
  for (const name of NAMES) {
    writeFiles(local, { [name]: content(name) });
    utimesSync(join(local, name), MTIME, MTIME);
  }
  env.start();
  await env.notify.waitFor((d) => d === 'READY=1');
  await env.notify.waitFor(statusMatching(/^1 jobs?, idle$/));

  const monitor = follow('gdbus', ['monitor', '--address', address, '--dest', BUS_NAME, '--object-path', OBJECT_PATH]);
  t.after(() => monitor.stop());
  await monitor.waitFor((line) => line.includes(`${BUS_NAME} is owned by`), 'that it watches the service');
  const sync = async (): Promise<string> => {
    const r = await run('busctl', ['--address', address, 'call', BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, 'Sync', 'asa{sv}', '1', JOB, '0']);
    assert.equal(r.code, 0, r.stderr);
    const id = /^at 1 (\d+)$/.exec(r.stdout.trim())?.[1];
    assert.ok(id, r.stdout);
    return id;
  };
  const finished = (id: string): Promise<string> => monitor.waitFor((line) => line.includes(`${MANAGER_INTERFACE}.JobFinished`) && line.includes(`uint64 ${id},`), `JobFinished of run ${id}`);

  const first = await finished(await sync());
  assert.match(first, /'(success|no-changes)'/, first);
  assert.deepEqual(treeHashes(local), hashes(NAMES));
  assert.deepEqual(treeHashes(remote), hashes(NAMES), 'the first run copied everything');

  const twelve = NAMES.slice(0, 12);
  for (const name of twelve) unlinkSync(join(local, name));
  const abortId = await sync();
  const signal = await finished(abortId);
  assert.match(signal, /'needs-approval'/, signal);
  assert.ok(signal.includes(`rbmctl approve ${JOB}`), `JobFinished names the job in its hint: ${signal}`);
  assert.doesNotMatch(signal, /\bJOB\b/, 'no literal JOB reaches the bus');

  const history = await run('busctl', ['--address', address, '--json=short', 'call', BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, 'History', 'su', JOB, '0']);
  assert.equal(history.code, 0, history.stderr);
  const records = (JSON.parse(history.stdout) as { data: [HistoryEntry[]] }).data[0];
  const aborted = records.find((r) => String(r.run_id.data) === abortId);
  assert.equal(aborted?.result.data, 'needs-approval');
  assert.equal(aborted.hint.data, `Review the pending deletes and approve exactly that list with: rbmctl approve ${JOB} (each scheduled run checks again, and syncs normally once the deletes are gone).`);
  assert.doesNotMatch(history.stdout, /\bJOB\b/, 'no record in History carries a literal JOB');

  assert.deepEqual(treeHashes(local), hashes(NAMES.slice(12)), 'the local deletions stand');
  assert.deepEqual(treeHashes(remote), hashes(NAMES), 'the safety abort deleted nothing on the remote');
}
