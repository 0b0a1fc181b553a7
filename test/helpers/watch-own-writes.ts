// Issue 16 "a run that downloads 50 files does not loop", with the real engine and the real rclone of the caller
// (test/integration on 1.75, test/compat on 1.60), local↔local and local↔sftp on 127.0.0.1: the tree watcher on the local root, the watch trigger around the
// run, the run's local writes read from rclone's own lines, and the end of the run as the service does it
// (src/service/watching.ts): runEnded, then the watcher's settled() barrier, then the decision. The events the
// download causes are exactly its writes: no follow-up. A user edit during the run gets exactly one follow-up, which
// then uploads it and stops.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_WATCH } from '../../src/config/watch-settings.js';
import { createTreeWatcher } from '../../src/platform/tree-watcher.js';
import { filteredOutPredicate, jobFilterRules, runFilterSources } from '../../src/rclone/filter-match.js';
import { systemClock } from '../../src/platform/clock.js';
import { collectLocalWrites, createWatchTrigger, type FollowUpDecision, type WatchTriggerCause } from '../../src/run/rules/watch-debounce.js';
import { createEngineEnv, hashOf, tempDir, treeHashes, writeFiles, type EngineEnv } from './engine-env.js';
import { startSftpServer } from './sftp-server.js';

interface Harness {
  env: EngineEnv;
  remote: string;
  fired: { paths: string[]; cause: WatchTriggerCause }[];
  /** One run as the service does it: runStarted, the run, its writes, runEnded, the watcher settled, the decision. */
  watchedRun(during?: () => void): Promise<{ decision: FollowUpDecision; localWrites: number }>;
  nextFire(): Promise<void>;
  /** Close the watch and check it never failed. */
  finish(): void;
}

/** Where Path2 is: a local folder, or a real `rclone serve sftp` on 127.0.0.1 (then `remote` is its folder on disk). */
export type RemoteKind = 'local' | 'sftp';

async function harness(t: TestContext, rclone: string, kind: RemoteKind): Promise<Harness> {
  const dir = tempDir(t, 'rbm-watch-run-');
  let remote = join(dir, 'remote');
  let env: EngineEnv;
  if (kind === 'sftp') {
    const server = await startSftpServer(t, rclone, dir);
    remote = join(server.root, 'share');
    mkdirSync(remote, { recursive: true });
    env = createEngineEnv({ rclone, dir, path2: `${server.name}:share`, env: server.env });
  } else {
    env = createEngineEnv({ rclone, dir, path2: remote });
  }
  writeFiles(env.local, { 'base.txt': 'base\n' });
  const first = await env.run();
  assert.equal(first.outcome, 'success', `${first.message}\n${first.tail.join('\n')}`);

  const fired: Harness['fired'] = [];
  let fireWaiter: (() => void) | undefined;
  const trigger = createWatchTrigger({
    clock: systemClock,
    timing: DEFAULT_WATCH,
    trigger: (paths, cause) => {
      fired.push({ paths, cause });
      fireWaiter?.();
    },
  });
  const failures: string[] = [];
  let ready: () => void = () => {};
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  const watcher = createTreeWatcher({
    root: env.local,
    // The job's filters as the service builds them: rclone's own `.partial` copies among them.
    ignore: filteredOutPredicate(jobFilterRules(runFilterSources(env.job, env.global, undefined))),
    onChange: (paths) => trigger.changed(paths),
    onFailure: (f) => failures.push(f.message),
    onReady: () => ready(),
  });
  const close = (): void => {
    watcher.close();
    trigger.dispose();
  };
  t.after(close);
  await isReady;

  return {
    env,
    remote,
    fired,
    finish() {
      // Closed before the temp folders go (t.after order), so their removal is no root-gone.
      close();
      assert.deepEqual(failures, []);
    },
    async watchedRun(during) {
      trigger.runStarted();
      const from = env.logger.entries.length;
      const record = await env.run();
      assert.equal(record.outcome, 'success', `${record.message}\n${record.tail.join('\n')}`);
      if (during) {
        during();
        // The edit is made while the run goes: its event reaches the watch before the run's end is reported (an
        // edit whose event comes after the end is a change like any other: run-watch-debounce.test.ts).
        await watcher.settled();
      }
      const collector = collectLocalWrites(env.local);
      for (const entry of env.logger.entries.slice(from)) if (entry.meta.source === 'rclone') collector.message({ text: entry.message });
      const writes = collector.writes();
      trigger.runEnded(writes);
      await watcher.settled(); // what the service waits for before it decides
      const decision = trigger.echoesSettled();
      assert.ok(decision, 'a run was ending');
      return { decision, localWrites: writes.paths.size };
    },
    nextFire() {
      const count = fired.length;
      return new Promise<void>((resolve) => {
        fireWaiter = () => {
          if (fired.length > count) resolve();
        };
      });
    },
  };
}

export async function downloadDoesNotLoop(t: TestContext, rclone: string, kind: RemoteKind = 'local'): Promise<void> {
  const h = await harness(t, rclone, kind);
  const expected: Record<string, string> = { 'base.txt': hashOf('base\n') };
  const files: Record<string, string> = {};
  for (let i = 0; i < 50; i++) {
    const rel = i < 20 ? `incoming/new-folder/f${i}.txt` : i < 40 ? `incoming/g${i}.txt` : `top${i}.txt`;
    files[rel] = `downloaded ${i}\n`;
    expected[rel] = hashOf(files[rel]);
  }
  writeFiles(h.remote, files);
  const past = new Date(Date.now() - 60_000);
  for (const rel of Object.keys(files)) utimesSync(join(h.remote, rel), past, past);

  const { decision, localWrites } = await h.watchedRun();
  assert.equal(localWrites, 50, 'the run wrote the 50 files locally');
  assert.deepEqual(decision, { kind: 'none', reason: 'own-writes', unexplained: [] });
  assert.deepEqual(h.fired, []);
  assert.deepEqual(treeHashes(h.env.local), expected);
  assert.deepEqual(treeHashes(h.remote), expected);
  h.finish();
}

export async function userEditDuringRunGetsOneFollowUp(t: TestContext, rclone: string, kind: RemoteKind = 'local'): Promise<void> {
  const h = await harness(t, rclone, kind);
  writeFiles(h.remote, { 'from-remote.txt': 'remote\n' });
  const first = await h.watchedRun(() => writeFileSync(join(h.env.local, 'mine.txt'), 'typed while it ran\n'));
  assert.deepEqual(first.decision, { kind: 'follow-up', unexplained: ['mine.txt'] });
  await h.nextFire();
  assert.deepEqual(h.fired, [{ paths: ['mine.txt'], cause: 'watch-follow-up' }]);
  const second = await h.watchedRun();
  assert.equal(second.localWrites, 0, 'the follow-up only uploads');
  assert.deepEqual(second.decision, { kind: 'none', reason: 'no-changes', unexplained: [] });
  const expected = { 'base.txt': hashOf('base\n'), 'from-remote.txt': hashOf('remote\n'), 'mine.txt': hashOf('typed while it ran\n') };
  assert.deepEqual(treeHashes(h.env.local), expected);
  assert.deepEqual(treeHashes(h.remote), expected);
  assert.equal(h.fired.length, 1);
  h.finish();
}
