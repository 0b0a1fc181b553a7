// Hardening, soak and clock jumps: the real service logic (createService: scheduler, reloads from the real config file)
// with the real engine and rclone, on a FakeClock so every-minute schedules run in seconds. Minutes pass one by one
// with random schedule edits, job additions and removals, and file changes in between: every due slot must run exactly
// once (never skipped, never doubled), History must hold every run, and fds and heap must not grow.
// The clock jumps (suspend, NTP step forward and back) use the same world. Bounded: ~100 runs; long: 500 or more.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadConfig } from '../../src/config/load.js';
import type { JobRunner, RunRecord } from '../../src/run/types.js';
import { createJobRunner } from '../../src/run/runner.js';
import { nullNotifier } from '../../src/platform/notify.js';
import { probeRclone } from '../../src/platform/rclone-probe.js';
import { createSpawner } from '../../src/platform/spawner.js';
import { nullLogger } from '../../src/ports.js';
import { createService, type Service } from '../../src/service/service.js';
import { tempDir, treeHashes, writeFiles } from '../helpers/engine-env.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { createRng } from '../helpers/fuzz.js';
import { fdCount, figure, waitUntil } from '../helpers/hardening.js';
import { requireProgram, testRclone } from '../helpers/tools.js';

process.env.TZ = 'UTC';
const MINUTE = 60_000;
const T0 = Date.UTC(2024, 0, 1, 0, 0, 0);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap in use after a full collection, in KiB. */
function heapKiB(): number {
  gc();
  return Math.round(process.memoryUsage().heapUsed / 1024);
}

interface World {
  dir: string;
  clock: FakeClock;
  service: Service;
  runner: JobRunner;
  finished: RunRecord[];
  /** Write the config with these jobs (name → schedule, or false for inactive) and reload. */
  setJobs(jobs: Record<string, string | false>): Promise<void>;
  local(name: string): string;
  remote(name: string): string;
  /** Let `ms` of fake time pass, then wait (real time) until no run is left. */
  advance(ms: number): Promise<void>;
}

async function world(t: TestContext, rclone: string): Promise<World> {
  const dir = tempDir(t, 'rbm-soak-');
  const clock = new FakeClock(T0);
  const caps = await probeRclone(rclone);
  const runner = createJobRunner({ spawner: createSpawner(), clock, logger: nullLogger, stateDir: join(dir, 'state'), probeCaps: () => Promise.resolve(caps), env: { ...process.env, RCLONE_CONFIG: join(dir, 'rclone.conf') } });
  writeFileSync(join(dir, 'rclone.conf'), '');
  const configPath = join(dir, 'config.yaml');
  const local = (n: string): string => join(dir, 'local', n);
  const remote = (n: string): string => join(dir, 'remote', n);
  const configText = (jobs: Record<string, string | false>): string =>
    [
      `local_base_path: ${join(dir, 'local')}`,
      `rclone_binary: ${rclone}`,
      'max_parallel_jobs: 4',
      'sync_jobs:',
      ...Object.entries(jobs).flatMap(([name, schedule]) => {
        mkdirSync(local(name), { recursive: true });
        mkdirSync(remote(name), { recursive: true });
        return [`  ${name}:`, `    local: ${name}`, '    rclone_remote: ""', `    remote: ${remote(name)}`, `    schedule: "${schedule === false ? '* * * * *' : schedule}"`, `    active: ${schedule !== false}`];
      }),
    ].join('\n') + '\n';
  writeFileSync(configPath, configText({}));
  const service = createService({
    configPath,
    clock,
    logger: nullLogger,
    runner,
    loadConfig: (path) => loadConfig(path, { home: dir, caps }),
    notifier: nullNotifier,
    editor: { addJob: () => Promise.reject(new Error('not used')), removeJob: () => Promise.reject(new Error('not used')) },
    version: 'soak',
  });
  const finished: RunRecord[] = [];
  service.on('jobFinished', (record) => finished.push(record));
  await service.start();
  const idle = (): boolean => {
    const s = service.status();
    return s.runningJobs.length === 0 && s.queuedJobs.length === 0;
  };
  t.after(() => service.shutdown());
  return {
    dir,
    clock,
    service,
    runner,
    finished,
    local,
    remote,
    async setJobs(jobs) {
      writeFileSync(configPath, configText(jobs));
      await service.reload();
    },
    async advance(ms) {
      clock.advance(ms);
      await waitUntil('the runs of this minute to finish', idle, 120_000);
    },
  };
}

/** Does an every-k-minutes schedule (`* * * * *` or the `*` `/k` form, the only ones used here) fire at `atMs`? */
function fires(schedule: string, atMs: number): boolean {
  const minute = new Date(atMs).getUTCMinutes();
  if (schedule === '* * * * *') return true;
  const k = Number(/^\*\/(\d+) /.exec(schedule)?.[1]);
  return minute % k === 0;
}

const SCHEDULES = ['* * * * *', '*/2 * * * *', '*/3 * * * *', '*/5 * * * *'];

test(`soak: ${figure('~100', '500+')} scheduled runs with random edits and reloads: no slot skipped or doubled, every run in History, no fd or heap growth`, { timeout: figure(180_000, 1_800_000) }, async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone) return;
  const w = await world(t, rclone);
  const rng = createRng(7);
  let jobs: Record<string, string | false> = { a: '* * * * *', b: '* * * * *', c: '*/2 * * * *', d: '*/3 * * * *' };
  for (const name of Object.keys(jobs)) writeFiles(w.local(name), { 'seed.txt': `${name}\n` });
  await w.setJobs(jobs);
  // Warm-up: first runs (resyncs) so the measurements start from a steady state.
  for (let i = 0; i < 3; i++) await w.advance(MINUTE);
  const fdsBefore = fdCount('self');
  const heapBefore = heapKiB();
  const warmRuns = w.finished.length;

  const expected: string[] = [];
  const minutes = figure(38, 400);
  const edits: string[] = [];
  for (let m = 0; m < minutes; m++) {
    if (rng.chance(0.25)) {
      const next = { ...jobs };
      const names = Object.keys(next);
      const what = rng.int(4);
      if (what === 0 && !('e' in next)) next.e = rng.pick(SCHEDULES);
      else if (what === 1 && names.length > 2) delete next[rng.pick(names)];
      else next[rng.pick(names)] = rng.pick(SCHEDULES);
      edits.push(`${m}: ${JSON.stringify(next)}`);
      jobs = next;
      await w.setJobs(jobs);
    }
    for (const name of Object.keys(jobs)) if (rng.chance(0.3)) writeFiles(rng.chance(0.5) ? w.local(name) : w.remote(name), { [`m${m}.txt`]: `${name} ${m}\n` });
    const at = w.clock.now() + MINUTE;
    for (const [name, schedule] of Object.entries(jobs)) if (schedule !== false && fires(schedule, at)) expected.push(`${name}@${new Date(at).toISOString()}`);
    await w.advance(MINUTE);
  }
  const runs = w.finished.slice(warmRuns);
  const seen = runs.map((r) => `${r.job}@${new Date(r.startedMs).toISOString()}`);
  const fdsAfter = fdCount('self');
  const heapAfter = heapKiB();
  t.diagnostic(`${runs.length} scheduled runs over ${minutes} fake minutes with ${edits.length} edits+reloads; outcomes: ${[...new Set(runs.map((r) => r.outcome))].join(', ')}`);
  t.diagnostic(`fds ${fdsBefore} → ${fdsAfter}; heap after GC ${Math.round(heapBefore / 1024)} → ${Math.round(heapAfter / 1024)} MiB`);

  assert.deepEqual([...seen].sort(), [...expected].sort(), `every due slot ran exactly once (edits: ${edits.join(' | ')})`);
  assert.equal(new Set(seen).size, seen.length, 'no slot ran twice');
  assert.ok(runs.length >= figure(80, 500), `enough scheduled runs to mean something (${runs.length})`);
  assert.ok(runs.every((r) => r.trigger === 'schedule'), 'all on schedule');
  assert.ok(runs.every((r) => ['success', 'no-changes'].includes(r.outcome)), runs.filter((r) => !['success', 'no-changes'].includes(r.outcome)).map((r) => `${r.job}: ${r.outcome} ${r.message}`).join('\n'));
  for (const name of new Set(runs.map((r) => r.job))) {
    const inHistory = new Set(w.runner.history(name, 10_000).map((r) => r.runId)); // removed jobs too
    for (const r of w.finished.filter((x) => x.job === name)) assert.ok(inHistory.has(r.runId), `${name} run ${r.runId} is in History`);
  }
  // One manual run of each job picks up the last edits; then both sides match.
  await w.service.sync(Object.keys(jobs), {});
  await w.advance(0);
  for (const name of Object.keys(jobs)) assert.deepEqual(treeHashes(w.remote(name)), treeHashes(w.local(name)), `${name}: both sides match`);
  assert.ok(fdsAfter <= fdsBefore + 4, `fds ${fdsBefore} → ${fdsAfter}`);
  assert.ok(heapAfter - heapBefore < 32 * 1024, `heap grew by ${heapAfter - heapBefore} KiB`);
});

test('clock jumps (fake clock): a forward step runs each missed job once; a backward step never repeats a slot', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone) return;
  const w = await world(t, rclone);
  for (const name of ['hourly', 'quarter']) writeFiles(w.local(name), { 'x.txt': `${name}\n` });
  await w.setJobs({ hourly: '0 * * * *', quarter: '*/15 * * * *' });
  for (let i = 0; i < 60; i++) await w.advance(MINUTE); // 01:00: both ran (quarter at :15 :30 :45 :00)
  const count = (job: string): number => w.finished.filter((r) => r.job === job).length;
  assert.equal(count('hourly'), 1);
  assert.equal(count('quarter'), 4);

  // Suspend / NTP step forward by 5 h: 5 hourly and 20 quarter slots passed; each job catches up once.
  w.clock.jump(5 * 60 * MINUTE);
  await w.advance(MINUTE); // the longest sleep is a minute, so the step is noticed within one
  assert.equal(count('hourly'), 2, 'one catch-up run, not five');
  assert.equal(count('quarter'), 5, 'one catch-up run, not twenty');
  const afterForward = w.clock.now();

  // Step back 2 h: the slots of the last 2 h already ran; nothing repeats until the clock is past the last slot run.
  w.clock.jump(-2 * 60 * MINUTE);
  for (let i = 0; i < 2 * 60 - 1; i++) await w.advance(MINUTE);
  assert.equal(count('hourly'), 2, 'no hourly slot repeated after the backward step');
  assert.equal(count('quarter'), 5, 'no quarter slot repeated after the backward step');
  await w.advance(15 * MINUTE);
  assert.equal(count('quarter'), 6, 'the first slot after the last one run runs once');
  assert.ok(w.finished.at(-1)!.startedMs > afterForward);
  for (const name of ['hourly', 'quarter']) assert.deepEqual(treeHashes(w.remote(name)), treeHashes(w.local(name)));
});
