// rbmctl and the jobs' health (issue 15): the HEALTH column and the reasons, `status`'s exit code (13 when a job shown
// is not ok), `status --short` for each health value, snoozes shown, and `snooze`/`unsnooze` reaching the client with
// their arguments parsed by the one request parser. main() runs with a fake D-Bus client (no bus).
process.env.TZ = 'UTC'; // "snoozed until HH:MM" is local time: fixed here so the expected text is exact.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { EXIT_JOBS_NEED_ATTENTION, RbmError } from '../../src/errors.js';
import { main } from '../../src/cli/main.js';
import type { CliDeps, StandaloneRequest } from '../../src/cli/context.js';
import type { JobView, RbmClient, StatusView } from '../../src/dbus/client.js';
import { formatUntil, shortStatusLine, statusExitCode } from '../../src/cli/health-view.js';
import { SNOOZE_MAX_SECONDS, parseSnoozeSeconds } from '../../src/api/requests.js';
import type { JobHealth } from '../../src/api/control-api.js';

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);
const usec = (ms: number): bigint => BigInt(ms) * 1000n;
const HEALTHS: readonly JobHealth[] = ['ok', 'attention', 'failing', 'stale'];
const REASONS: Record<JobHealth, string> = {
  ok: '',
  attention: 'waits for your approval of 3 deletes: review them with rbmctl approve docs',
  failing: 'failed 3 times in a row: remote unreachable',
  stale: 'no successful sync for 2 d (stale after 1 h)',
};

function job(name: string, health: JobHealth = 'ok', patch: Partial<JobView> = {}): JobView {
  return {
    name, path: `/io/github/rbmanager/RcloneBisyncManager1/job/${name}`, state: health === 'attention' ? 'needs-approval' : 'idle', paused: false,
    local: `/home/u/${name}`, remote: `remote:${name}`, schedule: '*/5 * * * *', active: true, dry_run: false, last_result: 'success',
    last_message: '', last_error: '', last_run_id: 7n, last_run_usec: usec(NOW - 60_000), last_finished_usec: usec(NOW - 50_000),
    next_run_usec: usec(NOW + 240_000), current_run_id: 0n, needs_resync: false, needs_approval: health === 'attention', hash_warning: false,
    cpu_limit_applied: true, health, health_reason: REASONS[health], snoozed_until_usec: 0n, ...patch,
  };
}

function statusOf(jobs: JobView[], patch: Partial<StatusView> = {}): StatusView {
  return {
    state: 'running', version: '0.1.0', config_path: '/home/u/.config/rclone-bisync-manager/config.yaml', config_error: '', rclone_version: '1.75.2',
    running_jobs: [], queued_jobs: [], attention_jobs: jobs.filter((j) => j.health !== 'ok').map((j) => j.name), snoozed_until_usec: 0n, jobs, ...patch,
  };
}

function fakeClient(status: StatusView) {
  const calls: string[] = [];
  const client = {
    status: () => (calls.push('status'), Promise.resolve(status)),
    snooze: (jobs: readonly string[], seconds: number) => (calls.push(`snooze [${jobs.join(',')}] ${seconds}`), Promise.resolve()),
    unsnooze: (jobs: readonly string[]) => (calls.push(`unsnooze [${jobs.join(',')}]`), Promise.resolve()),
    close: () => undefined,
  } as unknown as RbmClient;
  return { client, calls };
}

async function rbmctl(argv: string[], status: StatusView, extra: Partial<CliDeps> = {}) {
  let stdout = '';
  let stderr = '';
  const { client, calls } = fakeClient(status);
  const stdin = new PassThrough();
  stdin.end('');
  const code = await main(
    argv,
    { stdout: { write: (t: string) => (stdout += t), isTTY: false }, stderr: { write: (t: string) => (stderr += t) }, stdin, env: { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/fake' } },
    { connect: () => Promise.resolve(client), now: () => NOW, openStandalone: undefined, ...extra },
  );
  return { code, stdout, stderr, calls };
}

test('status exits 13 when any job is not ok, for each health value, and 0 when all are ok', async () => {
  assert.equal(EXIT_JOBS_NEED_ATTENTION, 13);
  for (const health of HEALTHS) {
    const status = statusOf([job('photos'), job('docs', health)]);
    const expected = health === 'ok' ? 0 : 13;
    for (const argv of [['status'], ['status', '--json'], ['status', '--short'], ['status', '--timeout', '5'], ['status', '--short', '--timeout', '5']]) {
      const r = await rbmctl(argv, status);
      assert.equal(r.code, expected, `${health}: rbmctl ${argv.join(' ')}\n${r.stderr}`);
      assert.equal(r.stderr, '', `${health}: rbmctl ${argv.join(' ')}`);
    }
    // A job named on the command line: the exit code follows that job only.
    assert.equal((await rbmctl(['status', 'photos'], status)).code, 0, `${health}: status photos`);
    assert.equal((await rbmctl(['status', 'docs'], status)).code, expected, `${health}: status docs`);
    assert.equal((await rbmctl(['status', 'photos', '--short'], status)).code, 0, `${health}: status photos --short`);
  }
  // Other failures keep their codes.
  assert.equal((await rbmctl(['status', 'nosuch'], statusOf([job('docs', 'stale')]))).code, 3);
  assert.equal((await rbmctl(['status', 'bad/name'], statusOf([job('docs', 'stale')]))).code, 2);
  assert.equal((await rbmctl(['status', '--short', '--json'], statusOf([job('docs', 'stale')]))).code, 2);
});

test('status --short prints exactly one line for each health value', async () => {
  const expected: Record<JobHealth, string> = {
    ok: 'rbm: 2 ok',
    attention: 'rbm: 1 attention (docs)',
    failing: 'rbm: 1 failing (docs)',
    stale: 'rbm: 1 stale (docs)',
  };
  for (const health of HEALTHS) {
    const r = await rbmctl(['status', '--short'], statusOf([job('photos'), job('docs', health)]));
    assert.equal(r.stdout, `${expected[health]}\n`, health);
    const one = await rbmctl(['status', 'docs', '--short'], statusOf([job('photos', 'stale'), job('docs', health)]));
    assert.equal(one.stdout, `${health === 'ok' ? 'rbm: 1 ok' : expected[health]}\n`, `${health}: only the job named`);
  }
});

test('the short line: most urgent first, names capped, no jobs, config error, global snooze, service not running', () => {
  const mixed = [job('a', 'stale'), job('b', 'attention'), job('c', 'ok'), job('d', 'failing'), job('e', 'stale'), job('f', 'stale'), job('g', 'stale'), job('h', 'stale')];
  assert.equal(shortStatusLine(statusOf(mixed), mixed, NOW), 'rbm: 1 attention (b), 1 failing (d), 5 stale (a, e, f +2)');
  assert.equal(shortStatusLine(statusOf([]), [], NOW), 'rbm: no jobs');
  const ok = [job('a'), job('b'), job('c'), job('d')];
  assert.equal(shortStatusLine(statusOf(ok), ok, NOW), 'rbm: 4 ok');
  assert.equal(shortStatusLine(statusOf(ok, { config_error: 'line 3: bad\nline 4: worse' }), ok, NOW), 'rbm: 4 ok; config error');
  assert.equal(shortStatusLine(statusOf(ok, { snoozed_until_usec: usec(NOW + 2.5 * 3_600_000) }), ok, NOW), 'rbm: 4 ok; snoozed until 14:30');
  assert.equal(shortStatusLine(statusOf(ok, { snoozed_until_usec: usec(NOW - 1000) }), ok, NOW), 'rbm: 4 ok', 'a snooze that ended is not shown');
  assert.equal(shortStatusLine(statusOf(ok, { state: 'not running' }), ok, NOW, false), 'rbm: service not running');
  const stale = [job('photos', 'stale'), job('docs')];
  assert.equal(shortStatusLine(statusOf(stale, { state: 'not running' }), stale, NOW, false), 'rbm: service not running; 1 stale (photos)');
  // A health word a newer service might send is still not ok, and named.
  const unknown = [job('x', 'ok', { health: 'exotic' })];
  assert.equal(shortStatusLine(statusOf(unknown), unknown, NOW), 'rbm: 1 exotic (x)');
  assert.equal(statusExitCode(unknown), 13);
  // A service older than issue 15 sends no health: rbmctl does not guess.
  const older: JobView = job('x', 'ok', { needs_approval: true });
  delete older.health;
  delete older.health_reason;
  delete older.snoozed_until_usec;
  const old = [older];
  assert.equal(statusExitCode(old), 0);
  assert.equal(shortStatusLine(statusOf(old), old, NOW), 'rbm: 1 ok');
  assert.doesNotMatch(shortStatusLine(statusOf(mixed, { config_error: 'a\nb', state: 'not running' }), mixed, NOW, false), /\n/);
});

test('status: a HEALTH column, one reason line per job that is not ok, snoozes shown; --json carries the fields', async () => {
  const status = statusOf(
    [job('photos', 'ok', { snoozed_until_usec: usec(NOW + 3 * 3_600_000) }), job('docs', 'attention', { snoozed_until_usec: usec(NOW + 3_600_000) }), job('music', 'stale', { snoozed_until_usec: usec(NOW + 3_600_000) })],
    { snoozed_until_usec: usec(NOW + 3_600_000) },
  );
  const r = await rbmctl(['status'], status);
  assert.equal(r.code, 13);
  assert.match(r.stdout, /^notifications: snoozed for every job until 13:00 \(rbmctl unsnooze ends it\)$/m);
  assert.match(r.stdout, /^JOB {5}STATE {11}HEALTH {5}LAST RESULT {2}LAST RUN {19}NEXT RUN$/m);
  assert.match(r.stdout, /^photos {2}idle {12}ok {9}success /m);
  assert.match(r.stdout, /^docs {4}needs-approval {2}attention {2}success /m);
  assert.match(r.stdout, /^music {3}idle {12}stale {6}success /m);
  // The job's own snooze that outlasts the global one is shown; the global one is said once, above.
  assert.match(r.stdout, /^photos: snoozed until 15:00$/m);
  assert.match(r.stdout, /^docs: attention: waits for your approval of 3 deletes: review them with rbmctl approve docs$/m);
  assert.match(r.stdout, /^music: stale: no successful sync for 2 d \(stale after 1 h\)$/m);
  // The approval is said once (the health reason), not again as the older "safety abort waits" note.
  assert.doesNotMatch(r.stdout, /a safety abort waits for approval/);

  const detail = await rbmctl(['status', 'photos'], status);
  assert.equal(detail.code, 0);
  assert.match(detail.stdout, /^health: +ok$/m);
  assert.doesNotMatch(detail.stdout, /^reason:/m);
  assert.match(detail.stdout, /^notifications: +snoozed until 15:00 \(rbmctl unsnooze photos ends it\)$/m);
  const docs = await rbmctl(['status', 'docs'], status);
  assert.equal(docs.code, 13);
  assert.match(docs.stdout, /^health: +attention$/m);
  assert.match(docs.stdout, /^reason: +waits for your approval of 3 deletes: review them with rbmctl approve docs$/m);
  assert.match(docs.stdout, /^notifications: +snoozed for every job until 13:00 \(rbmctl unsnooze ends it\)$/m);

  const json = await rbmctl(['status', '--json'], status);
  assert.equal(json.code, 13);
  const parsed = JSON.parse(json.stdout) as { attention_jobs: string[]; snoozed_until_usec: string; jobs: { name: string; health: string; health_reason: string; snoozed_until_usec: string }[] };
  assert.deepEqual(parsed.attention_jobs, ['docs', 'music']);
  assert.equal(parsed.snoozed_until_usec, String(usec(NOW + 3_600_000)));
  assert.deepEqual(parsed.jobs.map((j) => [j.name, j.health, j.snoozed_until_usec]), [
    ['photos', 'ok', String(usec(NOW + 3 * 3_600_000))],
    ['docs', 'attention', String(usec(NOW + 3_600_000))],
    ['music', 'stale', String(usec(NOW + 3_600_000))],
  ]);
  assert.equal(parsed.jobs[1]?.health_reason, REASONS.attention);
});

test('without the service, status and --short read the state directory in-process and exit by health the same way', async () => {
  const notRunning = statusOf([job('photos', 'stale'), job('docs')], { state: 'not running' });
  const requests: StandaloneRequest[] = [];
  const openStandalone = (request: StandaloneRequest) => {
    requests.push(request);
    return Promise.resolve({ client: fakeClient(notRunning).client, close: () => Promise.resolve() });
  };
  const connect = () => Promise.reject(new RbmError('ServiceUnavailable', 'the rclone-bisync-manager service is not running'));
  const short = await rbmctl(['status', '--short'], notRunning, { connect, openStandalone });
  assert.equal(short.code, 13);
  assert.equal(short.stdout, 'rbm: service not running; 1 stale (photos)\n');
  assert.equal(short.stderr, '', 'the line says it: no note on stderr for a status bar');
  const full = await rbmctl(['status'], notRunning, { connect, openStandalone });
  assert.equal(full.code, 13);
  assert.equal(full.stderr, 'rbmctl: the service is not running; showing what its state directory holds\n');
  assert.match(full.stdout, /^photos +idle +stale /m);
  const fine = await rbmctl(['status', 'docs', '--short'], notRunning, { connect, openStandalone });
  assert.deepEqual([fine.code, fine.stdout], [0, 'rbm: service not running\n']);
  assert.deepEqual(requests.map((r) => r.mode), ['read', 'read', 'read'], 'looked at the state directory only');
});

test('snooze [JOB...] DURATION and unsnooze [JOB...] call the service with parsed arguments; bad ones never reach it', async () => {
  const status = statusOf([job('photos'), job('docs')]);
  const cases: [argv: string[], call: string, out: RegExp][] = [
    [['snooze', 'docs', '2h'], 'snooze [docs] 7200', /^notifications snoozed for docs until 14:00 \(the state stays visible in rbmctl status\)$/m],
    [['snooze', 'photos', 'docs', '1d12h'], 'snooze [photos,docs] 129600', /^notifications snoozed for photos, docs until 2024-05-03 00:00 /m],
    [['snooze', '90m'], 'snooze [] 5400', /^notifications snoozed for every job until 13:30 /m],
    [['snooze', '30d'], `snooze [] ${SNOOZE_MAX_SECONDS}`, /until 2024-05-31 12:00 /],
    [['snooze', 'docs', '1'], 'snooze [docs] 1', /until 12:00 /],
    [['unsnooze'], 'unsnooze []', /^notifications on again: the global snooze and every job's ended$/m],
    [['unsnooze', 'docs', 'photos'], 'unsnooze [docs,photos]', /^notifications on again for docs, photos$/m],
  ];
  for (const [argv, call, out] of cases) {
    const r = await rbmctl(argv, status);
    assert.equal(r.code, 0, `${argv.join(' ')}: ${r.stderr}`);
    assert.deepEqual(r.calls, [call], argv.join(' '));
    assert.match(r.stdout, out, argv.join(' '));
  }
  const json = await rbmctl(['snooze', 'docs', '2h', '--json'], status);
  assert.deepEqual(JSON.parse(json.stdout), { snoozed: ['docs'], seconds: 7200, until_usec: String(usec(NOW + 7_200_000)) });

  const bad: [argv: string[], message: RegExp][] = [
    [['snooze', '0s'], /^rbmctl: DURATION: expected a duration from 1 second to 30 days, e\.g\. 90m, 2h, 1d12h, or a number of seconds, got "0s"$/m],
    [['snooze', 'docs', '31d'], /^rbmctl: DURATION: .* got "31d"$/m],
    [['snooze', 'docs', '2592001'], /^rbmctl: DURATION: .* got "2592001"$/m],
    [['snooze', 'docs'], /^rbmctl: DURATION: .* got "docs"$/m],
    [['snooze', 'docs', '2 hours'], /^rbmctl: DURATION: .* got "2 hours"$/m],
    [['snooze', 'bad/name', '2h'], /^rbmctl: JOB\[0\]: invalid job name "bad\/name"/m],
    [['snooze'], /^rbmctl: Not enough non-option arguments/m],
    [['unsnooze', '../x'], /^rbmctl: jobs\[0\]: invalid job name "\.\.\/x"/m],
  ];
  for (const [argv, message] of bad) {
    const r = await rbmctl(argv, status);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.stderr, message, argv.join(' '));
    assert.deepEqual(r.calls, [], `${argv.join(' ')} never reached the service`);
  }
});

test('the one parser of snooze seconds: D-Bus numbers and rbmctl text, 1 second to 30 days, never clamped', () => {
  assert.equal(SNOOZE_MAX_SECONDS, 2_592_000);
  for (const [value, seconds] of [[1n, 1], [2_592_000n, 2_592_000], [7200, 7200], ['2h', 7200], ['1d12h', 129_600], ['90', 90], [' 5m ', 300]] as const) {
    assert.equal(parseSnoozeSeconds(value, 'seconds'), seconds, String(value));
  }
  for (const value of [0n, 0, 2_592_001n, 2_592_001, 2n ** 64n - 1n, -5, 1.5, '0s', '31d', '', 'x', '2 h', null, undefined, true, ['2h']]) {
    assert.throws(() => parseSnoozeSeconds(value, 'seconds'), (e: unknown) => e instanceof RbmError && e.code === 'InvalidArgs' && /^seconds: expected a duration from 1 second to 30 days/.test(e.message), String(value));
  }
});

test('"snoozed until": the time within a day, the date beyond, nothing once past', () => {
  assert.equal(formatUntil(0n, NOW), undefined);
  assert.equal(formatUntil(undefined, NOW), undefined);
  assert.equal(formatUntil(usec(NOW - 1), NOW), undefined);
  assert.equal(formatUntil(usec(NOW + 60_000), NOW), '12:01');
  assert.equal(formatUntil(usec(NOW + 86_399_000), NOW), '11:59');
  assert.equal(formatUntil(usec(NOW + 86_400_000), NOW), '2024-05-02 12:00');
});

test('snooze and unsnooze act (the bus may start the service, unless --no-auto-start); status --short only looks', async () => {
  const cases: [argv: string[], autoStart: boolean][] = [
    [['snooze', 'docs', '2h'], true],
    [['snooze', '1h'], true],
    [['unsnooze'], true],
    [['unsnooze', 'docs'], true],
    [['--no-auto-start', 'snooze', '1h'], false],
    [['status', '--short'], false],
    [['status', 'docs', '--short'], false],
  ];
  for (const [argv, autoStart] of cases) {
    const seen: boolean[] = [];
    const { client } = fakeClient(statusOf([job('photos'), job('docs')]));
    const r = await rbmctl(argv, statusOf([]), { connect: (options) => (seen.push(options.autoStart !== false), Promise.resolve(client)) });
    assert.equal(r.code, 0, `${argv.join(' ')}: ${r.stderr}`);
    assert.deepEqual(seen, [autoStart], argv.join(' '));
  }
});
