// Sync on change, the pure rules (src/run/rules/watch-debounce.ts): the quiet period and the maximum wait on a fake
// clock, and the follow-up after a run that wrote locally (none for its own writes, one for anything else: a user's
// change is never dropped).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../helpers/fake-clock.js';
import {
  MAX_TRACKED_PATHS,
  collectLocalWrites,
  createWatchTrigger,
  explainedByWrites,
  followUpAfterRun,
  NO_WRITES,
  watchRunDueAt,
  type RunWrites,
  type WatchTriggerCause,
} from '../../src/run/rules/watch-debounce.js';

const timing = { delayMs: 1000, maxWaitMs: 10_000 };

function harness(maxSeen?: number) {
  const clock = new FakeClock();
  const fired: { paths: string[]; cause: WatchTriggerCause; at: number }[] = [];
  const start = clock.now();
  const trigger = createWatchTrigger({ clock, timing, maxSeen, trigger: (paths, cause) => fired.push({ paths: [...paths].sort(), cause, at: clock.now() - start }) });
  /** The run ends and (no event left on its way) its follow-up is decided. */
  const endRun = (w: RunWrites) => {
    trigger.runEnded(w);
    return trigger.echoesSettled();
  };
  return { clock, fired, trigger, endRun };
}

const writes = (paths: string[], complete = true): RunWrites => ({ paths: new Set(paths), complete });

test('the due time is the quiet period after the last change, capped by the maximum wait after the first', () => {
  assert.equal(watchRunDueAt(0, 0, timing), 1000);
  assert.equal(watchRunDueAt(0, 4000, timing), 5000);
  assert.equal(watchRunDueAt(0, 9500, timing), 10_000);
  assert.equal(watchRunDueAt(0, 30_000, timing), 10_000);
  assert.equal(watchRunDueAt(0, 0, { delayMs: 3000, maxWaitMs: 1000 }), 3000, 'a maximum wait shorter than the quiet period is the quiet period');
});

test('one change triggers one run exactly watch_delay later, not before', () => {
  const { clock, fired, trigger } = harness();
  trigger.changed(['a.txt']);
  clock.advance(999);
  assert.deepEqual(fired, []);
  clock.advance(1);
  assert.deepEqual(fired, [{ paths: ['a.txt'], cause: 'watch', at: 1000 }]);
  clock.advance(60_000);
  assert.equal(fired.length, 1, 'nothing more without changes');
});

test('200 changes in a burst become one run with all 200 paths', () => {
  const { clock, fired, trigger } = harness();
  for (let i = 0; i < 200; i++) {
    trigger.changed([`burst/f${i}.txt`]);
    if (i % 20 === 19) clock.advance(50);
  }
  clock.advance(1000);
  assert.equal(fired.length, 1);
  assert.equal(fired[0]!.paths.length, 200);
  assert.equal(fired[0]!.at, 500 + 1000 - 50, 'the quiet period counts from the last change');
});

test('a folder that never stops changing runs at watch_max_wait, then again after its own maximum wait', () => {
  const { clock, fired, trigger } = harness();
  for (let t = 0; t < 25_000; t += 500) {
    trigger.changed([`log/line${t}`]);
    clock.advance(500);
  }
  assert.deepEqual(fired.map((f) => f.at), [10_000, 20_000]);
  assert.ok(fired.every((f) => f.cause === 'watch'));
});

test('a run that starts for another reason takes the pending changes with it', () => {
  const { clock, fired, trigger, endRun } = harness();
  trigger.changed(['a.txt']);
  clock.advance(500);
  trigger.runStarted(); // the schedule, or the user
  assert.equal(trigger.pendingPaths(), 0);
  assert.deepEqual(endRun(NO_WRITES), { kind: 'none', reason: 'no-changes', unexplained: [] });
  clock.advance(60_000);
  assert.deepEqual(fired, []);
});

test('the changes a run wrote itself (files, their folders, the root) trigger nothing', () => {
  const { clock, fired, trigger, endRun } = harness();
  trigger.runStarted();
  trigger.changed(['', 'new', 'new/sub', 'new/sub/f1', 'top.txt', 'gone.txt']);
  const decision = endRun(writes(['new/sub/f1', 'top.txt', 'gone.txt']));
  assert.deepEqual(decision, { kind: 'none', reason: 'own-writes', unexplained: [] });
  clock.advance(60_000);
  assert.deepEqual(fired, []);
});

test('a change the run did not write gives one follow-up run after the quiet period', () => {
  const { clock, fired, trigger, endRun } = harness();
  trigger.runStarted();
  trigger.changed(['downloaded.txt', 'edited-by-user.txt']);
  const decision = endRun(writes(['downloaded.txt']));
  assert.deepEqual(decision, { kind: 'follow-up', unexplained: ['edited-by-user.txt'] });
  clock.advance(999);
  assert.deepEqual(fired, []);
  clock.advance(1);
  assert.deepEqual(fired, [{ paths: ['edited-by-user.txt'], cause: 'watch-follow-up', at: 1000 }]);
});

test('a change made during a follow-up gets a follow-up of its own; a late echo of the followed run\'s writes does not', () => {
  const { clock, fired, trigger, endRun } = harness();
  trigger.runStarted();
  trigger.changed(['a', 'typed']);
  assert.equal(endRun(writes(['a']))?.kind, 'follow-up');
  clock.advance(1000);
  assert.equal(fired.length, 1);
  trigger.runStarted(); // the follow-up
  trigger.changed(['b', 'a', 'typed-during-the-follow-up']);
  assert.deepEqual(endRun(writes(['b'])), { kind: 'follow-up', unexplained: ['a', 'typed-during-the-follow-up'] }, 'the user\'s change is never dropped');
  clock.advance(1000);
  assert.equal(fired.length, 2);
  trigger.runStarted(); // the follow-up of the follow-up
  trigger.changed(['c', 'b']); // it wrote c; b is the followed run's write, reported late
  assert.deepEqual(endRun(writes(['c'])), { kind: 'none', reason: 'chain-limit', unexplained: ['b'] });
  clock.advance(60_000);
  assert.equal(fired.length, 2, 'no run for the followed run\'s own write');
  trigger.changed(['user-edit']);
  clock.advance(1000);
  assert.deepEqual(fired.map((f) => [f.paths, f.cause]), [[['typed'], 'watch-follow-up'], [['a', 'typed-during-the-follow-up'], 'watch-follow-up'], [['user-edit'], 'watch']]);
});

test('review finding 1: a user edit saved just after a follow-up run ended (before its events settled) is synced at once', () => {
  const { clock, fired, trigger } = harness();
  // run 1 downloads x; the user edits u during it
  trigger.runStarted();
  trigger.changed(['x', 'u']);
  trigger.runEnded(writes(['x']));
  assert.equal(trigger.echoesSettled()?.kind, 'follow-up');
  clock.advance(1000);
  // run 2, the follow-up, downloads y; it ends; the user saves z before the watcher settled
  trigger.runStarted();
  trigger.changed(['y']);
  trigger.runEnded(writes(['y']));
  trigger.changed(['z', 'y']);
  assert.deepEqual(trigger.echoesSettled(), { kind: 'none', reason: 'own-writes', unexplained: [] }, 'the follow-up\'s own events are its own');
  assert.equal(trigger.pendingPaths(), 1, 'z waits for its quiet period');
  clock.advance(1000);
  assert.deepEqual(fired.map((f) => [f.paths, f.cause]), [[['u'], 'watch-follow-up'], [['z'], 'watch']]);
});

test('a run that wrote nothing locally gets a follow-up for every change seen during it (they are the user\'s)', () => {
  assert.deepEqual(followUpAfterRun({ seen: ['x'], writes: NO_WRITES, followedWrites: writes(['y']) }), { kind: 'follow-up', unexplained: ['x'] });
  assert.deepEqual(followUpAfterRun({ seen: [], writes: writes(['x']) }), { kind: 'none', reason: 'no-changes', unexplained: [] });
});

test('an incomplete list of writes (a resync, an overflow) explains nothing: one follow-up', () => {
  assert.deepEqual(followUpAfterRun({ seen: ['a'], writes: writes(['a'], false) }), { kind: 'follow-up', unexplained: ['a'] });
});

test('a folder is explained by a write below it, a sibling with a common prefix is not', () => {
  const w = writes(['docs/a.txt']);
  assert.equal(explainedByWrites('docs', w), true);
  assert.equal(explainedByWrites('', w), true);
  assert.equal(explainedByWrites('doc', w), false);
  assert.equal(explainedByWrites('docs/a.txt.bak', w), false);
  const deep = writes(['a/b/c/d.txt']);
  assert.deepEqual(['', 'a', 'a/b', 'a/b/c', 'a/b/c/d.txt', 'a/b/c/d', 'a/b/x', 'b'].map((p) => explainedByWrites(p, deep)), [true, true, true, true, true, false, false, false]);
});

// Delta lines exactly as rclone printed them for the same scenario (a delete on Path2, a new file in a new folder on
// Path2, a conflict), JSON log; 1.75 colours its JSON messages.
const LINES_175 = [
  '{"level":"info","msg":"- \\u001b[34mPath2\\u001b[0m    \\u001b[35m\\u001b[32mFile is new\\u001b[0m\\u001b[0m               - \\u001b[36mnewdir/nf\\u001b[0m"}',
  '{"level":"notice","msg":"- \\u001b[34mWARNING\\u001b[0m  \\u001b[35mNew or changed in both paths\\u001b[0m       - \\u001b[36mconf\\u001b[0m"}',
  '{"level":"notice","msg":"- \\u001b[36mPath1\\u001b[0m    \\u001b[35mRenaming Path1 copy\\u001b[0m                - \\u001b[36m/r/p1/conf.conflict1\\u001b[0m"}',
  '{"level":"notice","msg":"- \\u001b[36mPath1\\u001b[0m    \\u001b[35m\\u001b[32mQueue copy to\\u001b[0m Path2\\u001b[0m       - \\u001b[36m/r/p2/conf.conflict1\\u001b[0m"}',
  '{"level":"notice","msg":"- \\u001b[34mPath2\\u001b[0m    \\u001b[35mRenaming Path2 copy\\u001b[0m                - \\u001b[36m/r/p2/conf.conflict2\\u001b[0m"}',
  '{"level":"notice","msg":"- \\u001b[34mPath2\\u001b[0m    \\u001b[35m\\u001b[32mQueue copy to\\u001b[0m Path1\\u001b[0m       - \\u001b[36m/r/p1/conf.conflict2\\u001b[0m"}',
  '{"level":"info","msg":"- \\u001b[36mPath1\\u001b[0m    \\u001b[35m\\u001b[31mQueue delete\\u001b[0m\\u001b[0m              - \\u001b[36m/r/p1/del\\u001b[0m"}',
  '{"level":"info","msg":"- \\u001b[34mPath2\\u001b[0m    \\u001b[35m\\u001b[32mQueue copy to\\u001b[0m Path1\\u001b[0m       - \\u001b[36m/r/p1/newdir/nf\\u001b[0m"}',
];
const LINES_160 = [
  '{"level":"info","msg":"- Path2    File is new                         - newdir/nf"}',
  '{"level":"warning","msg":"- WARNING  New or changed in both paths        - conf"}',
  '{"level":"warning","msg":"- Path1    Renaming Path1 copy                 - /r/p1/conf..path1"}',
  '{"level":"warning","msg":"- Path1    Queue copy to Path2                 - /r/p2/conf..path1"}',
  '{"level":"warning","msg":"- Path2    Renaming Path2 copy                 - /r/p2/conf..path2"}',
  '{"level":"warning","msg":"- Path2    Queue copy to Path1                 - /r/p1/conf..path2"}',
  '{"level":"info","msg":"- Path1    Queue delete                        - /r/p1/del"}',
  '{"level":"info","msg":"- Path2    Queue copy to Path1                 - /r/p1/newdir/nf"}',
];

test('the local writes of a bisync are read from its delta lines on 1.60 and 1.75', () => {
  const expect = (suffix1: string, suffix2: string) => new Set(['conf', `conf${suffix1}`, `conf${suffix2}`, 'del', 'newdir/nf']);
  for (const [lines, s1, s2] of [[LINES_175, '.conflict1', '.conflict2'], [LINES_160, '..path1', '..path2']] as const) {
    const c = collectLocalWrites('/r/p1/');
    for (const line of lines) c.push(line);
    assert.deepEqual(c.writes(), { paths: expect(s1, s2), complete: true });
  }
});

test('a resync towards Path1, a path outside the root or too many paths make the list incomplete', () => {
  const resync = collectLocalWrites('/r/p1');
  resync.push('{"level":"info","msg":"- Path2             Resync is copying files to                  - Path1"}');
  assert.equal(resync.writes().complete, false);
  const outside = collectLocalWrites('/r/p1');
  outside.push('{"level":"info","msg":"- Path2    Queue copy to Path1                 - /elsewhere/x"}');
  assert.equal(outside.writes().complete, false);
  const many = collectLocalWrites('/r/p1', 2);
  for (const n of ['a', 'b', 'c']) many.push(`{"level":"info","msg":"- Path2    Queue copy to Path1                 - /r/p1/${n}"}`);
  assert.deepEqual(many.writes(), { paths: new Set(['a', 'b']), complete: false });
  const toRemote = collectLocalWrites('/r/p1');
  toRemote.push('{"level":"info","msg":"- Path1    Queue copy to Path2                 - /r/p2/up"}');
  toRemote.push('{"level":"info","msg":"- Path2    Queue delete                        - /r/p2/gone"}');
  assert.deepEqual(toRemote.writes(), { paths: new Set(), complete: true }, 'writes to the remote side are not local writes');
});

test('text log lines (no --use-json-log) and decoded messages give the same writes', () => {
  const text = collectLocalWrites('/r/p1');
  text.push('2026/11/26 06:54:39 INFO  : - Path2    Queue copy to Path1                 - /r/p1/sub/a.txt');
  text.push('2026/11/26 06:54:39 NOTICE: - Path1    Queue delete                        - /r/p1/old.txt');
  text.push('2026/11/26 06:54:39 INFO  : sub/a.txt: Copied (new)');
  const messages = collectLocalWrites('/r/p1');
  messages.message({ text: '- Path2    Queue copy to Path1                 - /r/p1/sub/a.txt' });
  messages.message({ text: '- Path1    Queue delete                        - /r/p1/old.txt' });
  assert.deepEqual(text.writes(), { paths: new Set(['sub/a.txt', 'old.txt']), complete: true });
  assert.deepEqual(messages.writes(), text.writes());
});

test('a late event of the run\'s own write (it reaches the watch after the run ended) gives no follow-up', () => {
  const { clock, fired, trigger } = harness();
  trigger.runStarted();
  trigger.changed(['incoming', 'incoming/f1.txt']);
  trigger.runEnded(writes(['incoming/f1.txt', 'incoming/f2.txt']));
  trigger.changed(['incoming/f2.txt', 'incoming']); // inotify and the watcher's lstat were still on their way
  assert.deepEqual(trigger.echoesSettled(), { kind: 'none', reason: 'own-writes', unexplained: [] });
  clock.advance(60_000);
  assert.deepEqual(fired, []);
  assert.equal(trigger.echoesSettled(), undefined, 'decided once');
});

test('a change the run did not write, seen between its end and the settling, is a change like any other: its own run', () => {
  const { clock, fired, trigger } = harness();
  trigger.runStarted();
  trigger.runEnded(writes(['a.txt']));
  trigger.changed(['a.txt', 'typed.txt']);
  assert.deepEqual(trigger.echoesSettled(), { kind: 'none', reason: 'own-writes', unexplained: [] });
  clock.advance(1000);
  assert.deepEqual(fired, [{ paths: ['typed.txt'], cause: 'watch', at: 1000 }]);
});

test('a run that starts before the last one settled: the old run\'s echoes stay the old run\'s, the rest goes to the new run', () => {
  const { clock, fired, trigger } = harness();
  trigger.runStarted();
  trigger.runEnded(writes(['old.txt']));
  trigger.runStarted(); // a queued run starts at once
  trigger.changed(['old.txt', 'during-new.txt']);
  assert.deepEqual(trigger.echoesSettled(), { kind: 'none', reason: 'own-writes', unexplained: [] });
  trigger.runEnded(writes(['new.txt']));
  assert.deepEqual(trigger.echoesSettled(), { kind: 'follow-up', unexplained: ['during-new.txt'] });
  clock.advance(1000);
  assert.deepEqual(fired.map((f) => f.paths), [['during-new.txt']]);
});

test('the old run\'s follow-up decided while a new run goes joins the new run\'s changes', () => {
  const { clock, fired, trigger } = harness();
  trigger.runStarted();
  trigger.changed(['typed.txt']);
  trigger.runEnded(writes(['old.txt']));
  trigger.runStarted();
  assert.deepEqual(trigger.echoesSettled(), { kind: 'follow-up', unexplained: ['typed.txt'] });
  clock.advance(60_000);
  assert.equal(fired.length, 0, 'nothing queued while the new run goes');
  trigger.runEnded(NO_WRITES);
  assert.deepEqual(trigger.echoesSettled(), { kind: 'follow-up', unexplained: ['typed.txt'] });
  clock.advance(1000);
  assert.deepEqual(fired.map((f) => [f.paths, f.cause]), [[['typed.txt'], 'watch-follow-up']]);
});

test('the changes kept during a run are capped: past the cap the run gets its one follow-up, even for its own writes', () => {
  const { clock, fired, trigger } = harness(3);
  trigger.runStarted();
  trigger.changed(['a', 'b', 'c']);
  trigger.changed(['a', 'c']); // already kept: no overflow
  assert.deepEqual(trigger.echoesSettled(), undefined);
  trigger.runEnded(writes(['a', 'b', 'c']));
  assert.deepEqual(trigger.echoesSettled(), { kind: 'none', reason: 'own-writes', unexplained: [] }, 'at the cap, nothing lost');
  trigger.runStarted();
  trigger.changed(['a', 'b', 'c', 'd']);
  trigger.runEnded(writes(['a', 'b', 'c', 'd']));
  assert.deepEqual(trigger.echoesSettled(), { kind: 'follow-up', unexplained: ['a', 'b', 'c'] }, 'a change past the cap cannot be matched');
  clock.advance(1000);
  assert.equal(fired.length, 1);
  assert.equal(fired[0]!.cause, 'watch-follow-up');
  assert.equal(MAX_TRACKED_PATHS, 20_000, 'the default cap is the write list\'s');
});

test('an overflowing list of changes is a follow-up, also after a follow-up: the changes left out may be the user\'s', () => {
  const overflow = { seen: ['a'], seenOverflow: true, writes: writes(['a']) };
  assert.deepEqual(followUpAfterRun(overflow), { kind: 'follow-up', unexplained: ['a'] });
  assert.deepEqual(followUpAfterRun({ ...overflow, followedWrites: writes(['a', 'b']) }), { kind: 'follow-up', unexplained: ['a'] });
});
