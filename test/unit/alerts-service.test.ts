// The service's alerts (src/service/alerts.ts) over a stub ControlApi, a recording notification server and hook
// runner, and a fake clock: what reaches the desktop and the hook, replaced ids, the burst, snooze and levels,
// actions, and the journal priority of each event (the real logger's `<N>` prefixes).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ControlApi, ControlEvents, JobStatus } from '../../src/api/control-api.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ERROR_LOG_NAME, createLogger } from '../../src/log/logger.js';
import type { DesktopNotification } from '../../src/platform/desktop-notifier.js';
import type { HookCall } from '../../src/platform/hook-runner.js';
import { nullLogger, type Logger } from '../../src/ports.js';
import type { RunRecord, RunRequest } from '../../src/run/types.js';
import { createAlerts, type Alerts } from '../../src/service/alerts.js';
import { alertStatus, approvalStatus, syncedStatus } from '../helpers/alert-status.js';
import { FakeClock } from '../helpers/fake-clock.js';

interface World {
  alerts: Alerts;
  clock: FakeClock;
  shown: DesktopNotification[];
  ids: number[];
  hooks: HookCall[];
  syncs: { jobs: readonly string[]; request: RunRequest }[];
  launched: (readonly string[])[];
  change(status: JobStatus): void;
  finish(record: Pick<RunRecord, 'job' | 'runId' | 'conflicts'>): void;
  setCaps(caps: readonly string[] | undefined): void;
  /** Jobs the stub service reports as running (api.summary().runningJobs). */
  running: Set<string>;
  /** The job is gone from the config (jobStatus throws). */
  remove(name: string): void;
  /** The server hangs: capabilities() waits until the returned function is called, then finds no server. */
  stall(): () => void;
}

function world(initial: JobStatus[] = [], logger: Logger = nullLogger): World {
  const jobs = new Map(initial.map((s) => [s.name, s]));
  const listeners: { [E in keyof ControlEvents]?: ControlEvents[E][] } = {};
  const syncs: World['syncs'] = [];
  const running = new Set<string>();
  const api = {
    status: () => ({ jobs: [...jobs.values()] }),
    summary: () => ({ runningJobs: [...running], queuedJobs: [] }),
    jobStatus: (name: string) => {
      const status = jobs.get(name);
      if (!status) throw new Error('no such job');
      return status;
    },
    sync: (names: readonly string[], request: RunRequest) => {
      syncs.push({ jobs: names, request });
      return Promise.resolve([1]);
    },
    on: <E extends keyof ControlEvents>(event: E, listener: ControlEvents[E]) => {
      (listeners[event] ??= [] as never).push(listener as never);
      return () => undefined;
    },
  } as unknown as ControlApi;
  const shown: DesktopNotification[] = [];
  const ids: number[] = [];
  const hooks: HookCall[] = [];
  const launched: (readonly string[])[] = [];
  let caps: readonly string[] | undefined = ['actions', 'body'];
  let stalled: Promise<void> | undefined;
  let nextId = 100;
  const clock = new FakeClock();
  const alerts = createAlerts({
    api,
    clock,
    logger,
    detailsCommand: () => ['term', '-e', 'rbmctl', '{action}', '{job}'],
    desktop: {
      capabilities: () => {
        const hung = stalled;
        if (!hung) return Promise.resolve(caps);
        stalled = undefined;
        return hung.then(() => undefined);
      },
      notify: (n) => {
        if (!caps) return Promise.resolve(undefined);
        shown.push(n);
        const id = n.replacesId > 0 ? n.replacesId : nextId++;
        ids.push(id);
        return Promise.resolve(id);
      },
      close: () => undefined,
    },
    hooks: { run: (call) => hooks.push(call), close: () => Promise.resolve() },
    launch: (argv) => launched.push(argv),
  });
  return {
    alerts,
    clock,
    shown,
    ids,
    hooks,
    syncs,
    launched,
    change(status) {
      jobs.set(status.name, status);
      for (const l of listeners.jobChanged ?? []) l(status);
    },
    finish(record) {
      for (const l of listeners.jobFinished ?? []) l({ dryRun: false, ...record } as RunRecord);
    },
    setCaps(value) {
      caps = value;
    },
    running,
    remove(name) {
      jobs.delete(name);
    },
    stall() {
      let release!: () => void;
      stalled = new Promise<void>((resolve) => (release = resolve));
      return release;
    },
  };
}

test('an approval is one critical notification; healthy again replaces it (same id); an ordinary success shows nothing', async () => {
  const w = world([alertStatus('docs')]);
  w.alerts.start();
  w.change(alertStatus('docs'));
  await w.alerts.idle();
  assert.equal(w.shown.length, 0);
  w.change(approvalStatus('docs', 12));
  w.change(approvalStatus('docs', 12));
  await w.alerts.idle();
  assert.equal(w.shown.length, 1);
  const [first] = w.shown;
  assert.deepEqual([first!.appName, first!.summary, first!.urgency, first!.category, first!.desktopEntry, first!.replacesId, first!.expireTimeoutMs], ['rclone-bisync-manager', 'docs: approve 12 changes?', 2, 'transfer.error', 'rclone-bisync-manager', 0, -1]);
  assert.deepEqual(first!.actions, ['default', 'Review…']);
  w.change(syncedStatus('docs'));
  await w.alerts.idle();
  assert.equal(w.shown.length, 2);
  assert.equal(w.shown[1]!.summary, 'docs: healthy again');
  assert.equal(w.shown[1]!.replacesId, w.ids[0]);
  assert.equal(w.shown[1]!.urgency, 0);
});

test('the hook gets RBM_JOB, RBM_STATE, RBM_MESSAGE, RBM_HINT and RBM_RUN_ID for each event, also without a server', async () => {
  const w = world([alertStatus('docs', { alerts: { onAttention: ['notify-me', '--flag'] } })]);
  w.setCaps(undefined);
  w.alerts.start();
  w.change(approvalStatus('docs', 3, { alerts: { onAttention: ['notify-me', '--flag'] } }));
  w.change(syncedStatus('docs', { alerts: { onAttention: ['notify-me', '--flag'] } }));
  await w.alerts.idle();
  assert.equal(w.shown.length, 0);
  assert.deepEqual(w.hooks.map((h) => h.argv), [['notify-me', '--flag'], ['notify-me', '--flag']]);
  assert.deepEqual(w.hooks[0]!.env, {
    RBM_JOB: 'docs',
    RBM_STATE: 'attention',
    RBM_MESSAGE: 'docs: approve 3 changes? — The sync stopped before deleting 3 files: /remote/docs/f1.txt, /remote/docs/f2.txt, /remote/docs/f3.txt. Nothing was deleted. Review the list with: rbmctl approve docs',
    RBM_HINT: 'rbmctl approve docs',
    RBM_RUN_ID: '7',
  });
  assert.equal(w.hooks[1]!.env.RBM_STATE, 'ok');
});

test('a snoozed job is silenced (desktop and hook) and nothing is replayed when the snooze ends; no recovery for it', async () => {
  const hook = { onAttention: ['h'] };
  const w = world([alertStatus('docs', { alerts: hook })]);
  w.alerts.start();
  const until = w.clock.now() + 3_600_000;
  w.change(alertStatus('docs', { health: 'failing', reason: 'r', alerts: hook, snoozedUntilMs: until }));
  w.clock.advance(3_600_001);
  w.change(alertStatus('docs', { health: 'failing', reason: 'r', alerts: hook }));
  w.change(alertStatus('docs', { alerts: hook }));
  await w.alerts.idle();
  assert.deepEqual([w.shown.length, w.hooks.length], [0, 0]);
});

test('notifications: none announces nothing; attention skips conflicts; all shows one per run with the count', async () => {
  const none = world([alertStatus('a', { alerts: { notifications: 'none', onAttention: ['h'] } })]);
  none.alerts.start();
  none.change(approvalStatus('a', 2, { alerts: { notifications: 'none', onAttention: ['h'] } }));
  none.finish({ job: 'a', runId: 3, conflicts: [{ path: 'x', copies: [] }] });
  await none.alerts.idle();
  assert.deepEqual([none.shown.length, none.hooks.length], [0, 0]);

  const attention = world([alertStatus('a')]);
  attention.alerts.start();
  attention.finish({ job: 'a', runId: 3, conflicts: [{ path: 'x', copies: [] }] });
  await attention.alerts.idle();
  assert.equal(attention.shown.length, 0);

  const all = world([alertStatus('a', { alerts: { notifications: 'all' } })]);
  all.alerts.start();
  all.finish({ job: 'a', runId: 3, conflicts: [{ path: 'x', copies: [] }, { path: 'y', copies: [] }] });
  all.finish({ job: 'a', runId: 4, conflicts: [{ path: 'z', copies: [] }] });
  await all.alerts.idle();
  assert.deepEqual(all.shown.map((n) => [n.summary, n.urgency, n.category]), [['a: 2 conflicts', 0, 'transfer.complete'], ['a: 1 conflict', 0, 'transfer.complete']]);
  assert.equal(all.shown[1]!.replacesId, all.ids[0], 'the next run\'s conflicts replace the last ones');
});

test('20 jobs failing at once: two notifications at once, the rest as one summary when the burst is over', async () => {
  const names = Array.from({ length: 20 }, (_, i) => `job${String(i).padStart(2, '0')}`);
  const w = world(names.map((n) => alertStatus(n)));
  w.alerts.start();
  for (const n of names) w.change(alertStatus(n, { health: 'failing', reason: 'failed 3 times in a row' }));
  await w.alerts.idle();
  assert.deepEqual(w.shown.map((n) => n.summary), ['job00: sync failing', 'job01: sync failing']);
  w.clock.advance(w.clock.nextTimerIn()!);
  await w.alerts.idle();
  assert.equal(w.shown.length, 3);
  assert.equal(w.shown[2]!.summary, '18 more jobs need a look');
  assert.deepEqual(w.shown[2]!.actions, ['default', 'Show details']);
});

test('a burst ends only when it is quiet AND no run is running or queued: slow failures among running jobs are one summary', async () => {
  const names = ['a', 'b', 'c', 'd', 'e'];
  const w = world(names.map((n) => alertStatus(n)));
  w.alerts.start();
  for (const n of names) w.running.add(n);
  for (const n of names) {
    // Each failure arrives 12 s after the last one (longer than the 10 s quiet period) while the others still run.
    w.running.delete(n);
    w.change(alertStatus(n, { health: 'failing', reason: 'failed 3 times in a row' }));
    await w.alerts.idle();
    if (n !== 'e') w.clock.advance(12_000);
  }
  await w.alerts.idle();
  assert.equal(w.shown.length, 2, 'the last one ended now: the burst is quiet only 10 s from now');
  w.clock.advance(w.clock.nextTimerIn()!);
  await w.alerts.idle();
  assert.deepEqual(w.shown.map((n) => n.summary), ['a: sync failing', 'b: sync failing', '3 more jobs need a look']);

  const x = world([alertStatus('a'), alertStatus('b'), alertStatus('c'), alertStatus('d')]);
  x.alerts.start();
  x.running.add('d');
  for (const n of ['a', 'b', 'c']) x.change(alertStatus(n, { health: 'failing', reason: 'r' }));
  x.clock.advance(30_000);
  await x.alerts.idle();
  assert.equal(x.shown.length, 2, 'quiet, but d still runs: the held event waits');
  x.running.delete('d');
  x.change(alertStatus('d'));
  await x.alerts.idle();
  assert.deepEqual(x.shown.map((n) => n.summary), ['a: sync failing', 'b: sync failing', 'c: sync failing'], 'd became idle: the burst ends');
});

test('a replacement skips the burst gate; recoveries of jobs only in the summary replace the summary', async () => {
  const w = world(['a', 'b', 'c', 'd'].map((n) => alertStatus(n)));
  w.alerts.start();
  for (const n of ['a', 'b', 'c', 'd']) w.change(alertStatus(n, { health: 'failing', reason: 'r' }));
  await w.alerts.idle();
  assert.deepEqual(w.shown.map((n) => n.summary), ['a: sync failing', 'b: sync failing']);
  const [aId] = w.ids;
  w.change(syncedStatus('a'));
  await w.alerts.idle();
  assert.deepEqual([w.shown[2]?.summary, w.shown[2]?.replacesId], ['a: healthy again', aId], 'a replaces its own notification at once, inside the burst');
  w.clock.advance(w.clock.nextTimerIn()!);
  await w.alerts.idle();
  assert.equal(w.shown[3]?.summary, '2 more jobs need a look');
  const summaryId = w.ids[3];
  w.change(syncedStatus('c'));
  w.change(syncedStatus('d'));
  await w.alerts.idle();
  assert.deepEqual(w.shown.slice(4).map((n) => [n.summary, n.replacesId]), [['1 more jobs need a look', summaryId], ['2 more jobs are healthy again', summaryId]]);
  assert.deepEqual(new Set(w.ids).size, 3, 'a, b and the summary: no new pop-up');
});

test('events held in a burst are dropped when their job is snoozed or removed meanwhile', async () => {
  const w = world(['a', 'b', 'c', 'd', 'e'].map((n) => alertStatus(n)));
  w.alerts.start();
  for (const n of ['a', 'b', 'c', 'd', 'e']) w.change(alertStatus(n, { health: 'failing', reason: 'r' }));
  // c snoozed (a global snooze shows in every job's snoozedUntilMs), d removed; e stays.
  w.change(alertStatus('c', { health: 'failing', reason: 'r', snoozedUntilMs: w.clock.now() + 3_600_000 }));
  w.remove('d');
  w.clock.advance(w.clock.nextTimerIn()!);
  await w.alerts.idle();
  assert.deepEqual(w.shown.map((n) => n.summary), ['a: sync failing', 'b: sync failing', 'e: sync failing']);
});

test('a job that needs a person when the service starts is announced once', async () => {
  const w = world([approvalStatus('docs', 4), alertStatus('photos')]);
  w.alerts.start();
  await w.alerts.idle();
  assert.deepEqual(w.shown.map((n) => n.summary), ['docs: approve 4 changes?']);
});

test('actions: Sync now queues a manual run of that job, the default runs the details command, Review… shows the approval list', async () => {
  const w = world([alertStatus('docs'), alertStatus('usb')]);
  w.alerts.start();
  w.change(alertStatus('usb', { health: 'failing', reason: 'r' }));
  w.change(approvalStatus('docs', 2));
  await w.alerts.idle();
  const [usbId, docsId] = w.ids;
  assert.deepEqual(w.shown[0]!.actions, ['default', 'Show details', 'sync', 'Sync now']);
  w.alerts.actionInvoked(usbId!, 'sync');
  assert.deepEqual(w.syncs, [{ jobs: ['usb'], request: { trigger: 'manual' } }]);
  w.alerts.actionInvoked(usbId!, 'default');
  w.alerts.actionInvoked(docsId!, 'default');
  w.alerts.actionInvoked(docsId!, 'sync');
  w.alerts.actionInvoked(999, 'sync');
  assert.deepEqual(w.launched, [['term', '-e', 'rbmctl', 'status', 'usb'], ['term', '-e', 'rbmctl', 'approve', 'docs']]);
  assert.equal(w.syncs.length, 1, 'an approval is never given or forced from a notification');
  w.alerts.notificationClosed(usbId!);
  w.alerts.actionInvoked(usbId!, 'sync');
  assert.equal(w.syncs.length, 1, 'a closed notification\'s id means nothing');
});

test('a server with body-markup gets &, < and > escaped; one without gets the text as it is', async () => {
  const conflicts = [{ path: 'R&D/<draft> notes.txt', copies: [] }];
  const markup = world([alertStatus('docs', { alerts: { notifications: 'all' } })]);
  markup.setCaps(['actions', 'body', 'body-markup']);
  markup.alerts.start();
  markup.finish({ job: 'docs', runId: 3, conflicts });
  await markup.alerts.idle();
  assert.match(markup.shown[0]!.body, /both versions were kept: R&amp;D\/&lt;draft&gt; notes\.txt$/);
  const plain = world([alertStatus('docs', { alerts: { notifications: 'all' } })]);
  plain.alerts.start();
  plain.finish({ job: 'docs', runId: 3, conflicts });
  await plain.alerts.idle();
  assert.match(plain.shown[0]!.body, /both versions were kept: R&D\/<draft> notes\.txt$/);
});

test('a stuck server: what was queued while it hung is dropped, not replayed minutes late', async () => {
  const w = world(['a', 'b', 'c', 'd'].map((n) => alertStatus(n)));
  w.alerts.start();
  const release = w.stall();
  w.change(alertStatus('a', { health: 'failing', reason: 'r' }));
  w.change(alertStatus('b', { health: 'failing', reason: 'r' }));
  // The first call hangs (its timeout, in the real notifier); b waits behind it. Then it gives up.
  release();
  await w.alerts.idle();
  assert.equal(w.shown.length, 0, 'b was queued before the call failed: dropped');
  w.clock.advance(w.clock.nextTimerIn() ?? 0);
  w.change(alertStatus('c', { health: 'failing', reason: 'r' }));
  await w.alerts.idle();
  assert.deepEqual(w.shown.map((n) => n.summary), ['c: sync failing'], 'a later event is shown once a server answers');
});

test('without the actions capability no actions are sent', async () => {
  const w = world([alertStatus('usb')]);
  w.setCaps(['body']);
  w.alerts.start();
  w.change(alertStatus('usb', { health: 'failing', reason: 'r' }));
  await w.alerts.idle();
  assert.deepEqual(w.shown[0]!.actions, []);
});

test('journal priorities: attention and failing at error (<3>, and error.log), stale and conflicts at warning (<4>), a recovery at info', async (t) => {
  const written: string[] = [];
  const journal = new PassThrough();
  journal.on('data', (chunk: Buffer) => written.push(...String(chunk).split('\n').filter(Boolean)));
  const logDir = mkdtempSync(join(tmpdir(), 'rbm-alerts-log-'));
  t.after(() => rmSync(logDir, { recursive: true, force: true }));
  const logger = createLogger({ logDir, console: false, journal: true, journalStream: journal, level: 'info' });
  const w = world(['a', 'b', 'c', 'd'].map((n) => alertStatus(n, { alerts: { notifications: 'all' } })), logger);
  w.alerts.start();
  w.change(approvalStatus('a', 2, { alerts: { notifications: 'all' } }));
  w.change(alertStatus('b', { health: 'failing', reason: 'failed 3 times in a row: x', alerts: { notifications: 'all' } }));
  w.change(alertStatus('c', { health: 'stale', reason: 'no successful sync for 2 d', alerts: { notifications: 'all' } }));
  w.finish({ job: 'd', runId: 12, conflicts: [{ path: 'x', copies: [] }] });
  w.change(syncedStatus('a', { alerts: { notifications: 'all' } }));
  await w.alerts.idle();
  await logger.close();
  assert.deepEqual(written.map((line) => line.slice(0, 12)), ['<3>[a#7] nee', '<3>[b#7] nee', '<4>[c#7] nee', '<4>[d#12] ne', '<6>[a#7] a: ']);
  assert.match(written[0]!, /^<3>\[a#7\] needs a look \(attention\): a: approve 2 changes\? — The sync stopped/);
  assert.equal(written[1], '<3>[b#7] needs a look (failing): b: sync failing — failed 3 times in a row: x. What to do: rbmctl history b');
  assert.match(written[3]!, /needs a look \(conflicts\): d: 1 conflict/);
  assert.match(written[4]!, /^<6>\[a#7\] a: healthy again — The last sync succeeded\./);
  // error.log: one line per problem that stops a job until a person acts, naming the job and what to do.
  const errorLines = readFileSync(join(logDir, ERROR_LOG_NAME), 'utf8').trim().split('\n');
  assert.deepEqual(errorLines.map((l) => / ERROR (\[\w#\d+\] needs a look \(\w+\))/.exec(l)?.[1]), ['[a#7] needs a look (attention)', '[b#7] needs a look (failing)']);
  assert.match(errorLines[0]!, /Review the list with: rbmctl approve a/);
});
