// rbmctl's main() with a fake D-Bus client (no bus): exit codes from the error table, human and --json output,
// sync --wait ordering (subscribe before Sync), approve's prompt, daemon without a user manager.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { ERROR_TABLE, RbmError, type ErrorCode } from '../../src/errors.js';
import { main } from '../../src/cli/main.js';
import type { CliDeps, StandaloneRequest } from '../../src/cli/context.js';
import type { ClientOptions, JobView, ManagerSignal, RbmClient, RunView, StatusView } from '../../src/dbus/client.js';

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);

function job(name: string, patch: Partial<JobView> = {}): JobView {
  return {
    name,
    path: `/io/github/rbmanager/RcloneBisyncManager1/job/${name}`,
    state: 'idle',
    paused: false,
    local: `/home/u/${name}`,
    remote: `remote:${name}`,
    schedule: '*/5 * * * *',
    active: true,
    dry_run: false,
    last_result: 'success',
    last_message: '',
    last_error: '',
    last_run_id: 7n,
    last_run_usec: BigInt(NOW - 60_000) * 1000n,
    last_finished_usec: BigInt(NOW - 50_000) * 1000n,
    next_run_usec: BigInt(NOW + 240_000) * 1000n,
    current_run_id: 0n,
    needs_resync: false,
    needs_approval: false,
    hash_warning: false,
    cpu_limit_applied: true,
    ...patch,
  };
}

function record(runId: bigint, jobName: string, result: string): RunView {
  return {
    run_id: runId, job: jobName, result, operation: 'bisync', trigger: 'manual', dry_run: false,
    started_usec: BigInt(NOW) * 1000n, finished_usec: BigInt(NOW + 2000) * 1000n, exit_code: 0, signal: '',
    message: `it was ${result}`, hint: result === 'failed' ? 'check the remote' : '', error: result === 'failed' ? 'boom' : '',
    files: 2n, bytes: 2048n, deletes: 0, renames: 0, errors: 0, conflicts: result === 'conflicts' ? ['a.txt'] : [], hash_warnings: 0,
  };
}

interface FakeClientOptions {
  status?: StatusView;
  fail?: RbmError;
  /** Results per job for sync (signals are delivered after Sync returns, and one before for the first job). */
  results?: Record<string, string>;
  deletes?: string[];
}

const TOKEN = 'a'.repeat(64);

function fakeClient(options: FakeClientOptions = {}) {
  const calls: string[] = [];
  let listener: ((s: ManagerSignal) => void) | undefined;
  let nextId = 100n;
  const status: StatusView = options.status ?? {
    state: 'running', version: '0.1.0', config_path: '/home/u/.config/rclone-bisync-manager/config.yaml', config_error: '', rclone_version: '1.75.2',
    running_jobs: [], queued_jobs: [], jobs: [job('photos'), job('docs', { needs_approval: true, state: 'needs-approval' })],
  };
  const guard = async <T>(name: string, value: () => T): Promise<T> => {
    calls.push(name);
    await Promise.resolve();
    if (options.fail) throw options.fail;
    return value();
  };
  const client: RbmClient = {
    sync: (jobs, o) =>
      guard(`sync ${jobs.join(',')} ${JSON.stringify(o)}`, () => {
        const ids = jobs.map(() => nextId++);
        // The first job finishes before Sync has even replied: --wait must not miss it.
        jobs.forEach((name, i) => {
          const id = ids[i]!;
          const result = options.results?.[name] ?? 'success';
          const send = () => {
            listener?.({ kind: 'job-started', job: name, runId: id, operation: 'bisync' });
            listener?.({ kind: 'job-progress', job: name, runId: id, progress: { bytes: 1024n, total_bytes: 2048n, transfers: 1, total_transfers: 2, speed: 512, eta_sec: 2n } });
            listener?.({ kind: 'job-finished', job: name, runId: id, result, details: record(id, name, result) });
          };
          if (i === 0) send();
          else setImmediate(send);
        });
        return ids;
      }),
    syncJob: (j) => guard(`syncJob ${j}`, () => nextId++),
    status: () => guard('status', () => status),
    listJobs: () => guard('listJobs', () => status.jobs.map((j) => ({ name: j.name, state: j.state, last_result: j.last_result, path: j.path }))),
    reload: () => guard('reload', () => undefined),
    addJob: (name, def) => guard(`addJob ${name} ${JSON.stringify(def)}`, () => `/p/${name}`),
    removeJob: (name) => guard(`removeJob ${name}`, () => undefined),
    pause: (jobs) => guard(`pause ${jobs.join(',')}`, () => undefined),
    resume: (jobs) => guard(`resume ${jobs.join(',')}`, () => undefined),
    cancel: (jobs) => guard(`cancel ${jobs.join(',')}`, () => undefined),
    history: (j, limit) => guard(`history ${j} ${limit}`, () => [record(9n, 'photos', 'success'), record(8n, 'docs', 'conflicts')]),
    pendingDeletes: (j) => guard(`pendingDeletes ${j}`, () => options.deletes ?? []),
    pendingApproval: (j, offset, limit) =>
      guard(`pendingApproval ${j} ${offset} ${limit}`, () => {
        const deletes = j === 'docs' ? (options.deletes ?? []) : [];
        return { token: deletes.length > 0 ? TOKEN : '', total: deletes.length, deletes: deletes.slice(offset, offset + limit) };
      }),
    approve: (j, token) =>
      guard(`approve ${j} ${token}`, () => {
        const id = nextId++;
        setImmediate(() => listener?.({ kind: 'job-finished', job: j, runId: id, result: 'success', details: record(id, j, 'success') }));
        return id;
      }),
    getProperty: (n) => guard(`getProperty ${n}`, () => ''),
    subscribe: (l) =>
      guard('subscribe', () => {
        listener = l;
        return () => {
          listener = undefined;
          calls.push('unsubscribe');
        };
      }),
    close: () => void calls.push('close'),
  };
  return { client, calls };
}

async function rbmctl(argv: string[], client: RbmClient, extra: Partial<CliDeps> & { stdin?: string; tty?: boolean; stdinTty?: boolean } = {}) {
  let stdout = '';
  let stderr = '';
  const stdin = new PassThrough();
  if (extra.stdinTty === true) Object.assign(stdin, { isTTY: true });
  stdin.end(extra.stdin ?? '');
  const code = await main(
    argv,
    { stdout: { write: (t: string) => (stdout += t), isTTY: extra.tty ?? false }, stderr: { write: (t: string) => (stderr += t) }, stdin, env: { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/fake' } },
    // No service in this process unless a test asks for one (the real one would read this machine's config).
    { connect: () => Promise.resolve(client), now: () => NOW, runCommand: () => Promise.resolve({ code: 1, stdout: 'offline\n', stderr: '' }), openStandalone: undefined, ...extra },
  );
  return { code, stdout, stderr };
}

test('every error code maps to its documented exit code and one message on stderr', async () => {
  for (const [code, [, exit]] of Object.entries(ERROR_TABLE) as [ErrorCode, readonly [string, number]][]) {
    const { client, calls } = fakeClient({ fail: new RbmError(code, `failed with ${code}`, { hint: 'do this next' }) });
    const r = await rbmctl(['status'], client);
    assert.equal(r.code, exit, code);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`^rbmctl: failed with ${code}`), code);
    assert.ok(calls.includes('close'), 'the client is always closed');
  }
});

test('service not running: one line saying so and how to start it, exit 69', async () => {
  const down = new RbmError('ServiceUnavailable', 'the rclone-bisync-manager service is not running', { hint: 'Start it with: systemctl --user start rclone-bisync-manager (or rbmctl daemon start).' });
  const r = await rbmctl(['jobs'], fakeClient().client, { connect: () => Promise.reject(down) });
  assert.equal(r.code, 69);
  assert.equal(r.stderr, 'rbmctl: the rclone-bisync-manager service is not running; start it with: systemctl --user start rclone-bisync-manager (or rbmctl daemon start).\n');
  const sync = await rbmctl(['sync', 'photos'], fakeClient().client, { connect: () => Promise.reject(down), openStandalone: undefined });
  assert.equal(sync.code, 69, 'no one-shot fallback wired: the same message');
  let opened: StandaloneRequest | undefined;
  let closed = 0;
  const inProcess = fakeClient({ results: { photos: 'needs-resync' } });
  const fallback = await rbmctl(['sync', 'photos', '-d'], fakeClient().client, {
    connect: () => Promise.reject(down),
    openStandalone: (req) => ((opened = req), Promise.resolve({ client: inProcess.client, close: () => (closed++, Promise.resolve()) })),
  });
  assert.equal(fallback.stderr, 'rbmctl: the service is not running; syncing once in this process\n');
  assert.deepEqual(opened, { mode: 'act', config: undefined, dryRun: true, consoleLog: false });
  // The same calls, waiting and exit codes as with the service: subscribe, Sync, then the outcome of the run.
  assert.deepEqual(inProcess.calls.slice(0, 2), ['subscribe', 'sync photos {"resync":false,"force":false,"dryRun":true}']);
  assert.equal(fallback.code, 6, fallback.stdout);
  assert.match(fallback.stdout, /^photos: needs-resync \(run 100\): it was needs-resync$/m);
  assert.equal(closed, 1, 'the in-process service is closed');
  // A service that answered and then went away is not "not running": nothing runs a second time in this process.
  opened = undefined;
  const goneMidway = fakeClient();
  goneMidway.client.sync = () => Promise.resolve([5n]);
  goneMidway.client.subscribe = (l) => (setImmediate(() => l({ kind: 'service-gone' })), Promise.resolve(() => undefined));
  const midway = await rbmctl(['sync', 'photos', '--wait'], goneMidway.client, {
    openStandalone: (req) => ((opened = req), Promise.resolve({ client: inProcess.client, close: () => Promise.resolve() })),
  });
  assert.equal(midway.code, 69);
  assert.match(midway.stderr, /the service stopped before the runs finished/);
  assert.equal(opened, undefined, 'no fallback once the service has answered');
  // A service that is shutting down replies with an error of its own: that is an answer, not a missing service.
  const stopping = fakeClient();
  const reply = Object.assign(new Error('the service is shutting down'), { type: 'io.github.rbmanager.RcloneBisyncManager1.Error.ServiceUnavailable' });
  stopping.client.sync = () => Promise.reject(new RbmError('ServiceUnavailable', 'the service is shutting down', { cause: reply }));
  const refused = await rbmctl(['sync', 'photos', '--wait'], stopping.client, {
    openStandalone: (req) => ((opened = req), Promise.resolve({ client: inProcess.client, close: () => Promise.resolve() })),
  });
  assert.equal(refused.code, 69);
  assert.match(refused.stderr, /^rbmctl: the service is shutting down/);
  assert.equal(opened, undefined, 'no second run in this process while the service drains');
});

test('usage errors exit 2 with a pointer to --help', async () => {
  for (const argv of [[], ['bogus'], ['pause'], ['status', '--nope'], ['status', '--timeout', '0']]) {
    const r = await rbmctl(argv, fakeClient().client);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.stderr, /rbmctl --help lists the commands and options/);
  }
  const limit = await rbmctl(['history', '--limit', 'x'], fakeClient().client);
  assert.equal(limit.code, 2);
  assert.match(limit.stderr, /--limit must be a whole number from 0 to 1000/);
});

test('help, version and completion requests print and never run the command; a command runs once', async () => {
  for (const argv of [['status', '--help'], ['--version', 'status'], ['--get-yargs-completions', 'rbmctl', 'st'], ['--get-yargs-completions', 'rbmctl', 'status', 'photos', 'x'], ['completion']]) {
    const { client, calls } = fakeClient();
    const r = await rbmctl(argv, client);
    assert.equal(r.code, 0, argv.join(' '));
    assert.deepEqual(calls, [], `${argv.join(' ')} must not call the service`);
  }
  const candidates = await rbmctl(['--get-yargs-completions', 'rbmctl', 'st'], fakeClient().client);
  assert.match(candidates.stdout, /^status$/m);
  const { client, calls } = fakeClient();
  await rbmctl(['pause', 'photos'], client);
  assert.deepEqual(calls, ['pause photos', 'close']);
});

test('status: a readable table with attention notes, and --json with 64-bit numbers as strings', async () => {
  const r = await rbmctl(['status'], fakeClient().client);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^rclone-bisync-manager 0\.1\.0: running, rclone 1\.75\.2$/m);
  assert.match(r.stdout, /^JOB {5}STATE {11}LAST RESULT {2}LAST RUN {19}NEXT RUN$/m);
  assert.match(r.stdout, /^photos {2}idle {12}success {6}\d{4}-\d\d-\d\d \d\d:\d\d \(1m ago\) {2}\d{4}-\d\d-\d\d \d\d:\d\d \(in 4m\)$/m);
  assert.match(r.stdout, /docs: a safety abort waits for approval: rbmctl approve docs/);
  const j = await rbmctl(['status', '--json'], fakeClient().client);
  const parsed = JSON.parse(j.stdout);
  assert.equal(parsed.jobs[0].last_run_id, '7');
  assert.equal(parsed.jobs[0].next_run_usec, String(BigInt(NOW + 240_000) * 1000n));
  const one = await rbmctl(['status', 'photos'], fakeClient().client);
  assert.match(one.stdout, /^remote: +remote:photos$/m);
  const missing = await rbmctl(['status', 'nope'], fakeClient().client);
  assert.equal(missing.code, 3);
});

test('jobs, history: tables and JSON', async () => {
  const jobs = await rbmctl(['jobs'], fakeClient().client);
  assert.equal(jobs.stdout, ['JOB     ACTIVE  SCHEDULE     LOCAL           REMOTE', 'photos  yes     */5 * * * *  /home/u/photos  remote:photos', 'docs    yes     */5 * * * *  /home/u/docs    remote:docs', ''].join('\n'));
  const { client, calls } = fakeClient();
  const history = await rbmctl(['history', '--limit', '5'], client);
  assert.ok(calls.includes('history  5'));
  assert.match(history.stdout, /^9 {4}photos {2}success {4}bisync {5}manual {3}\d{4}-\d\d-\d\d \d\d:\d\d \(now\) {2}2s {4}2 {6}2\.0 KiB {2}it was success$/m);
  const json = JSON.parse((await rbmctl(['history', 'photos', '--json'], fakeClient().client)).stdout);
  assert.equal(json[1].conflicts[0], 'a.txt');
  assert.equal(json[0].run_id, '9');
});

test('sync without --wait prints the run ids; options map to the call', async () => {
  const { client, calls } = fakeClient();
  const r = await rbmctl(['sync', 'photos', 'docs', '--resync', '-d'], client);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'queued: photos (run 100), docs (run 101)\n');
  assert.ok(calls.includes('sync photos,docs {"resync":true,"force":false,"dryRun":true}'), calls.join('\n'));
  assert.ok(!calls.includes('subscribe'));
});

test('sync --wait subscribes before Sync, catches an outcome that beats the reply, and exits with the worst result', async () => {
  const { client, calls } = fakeClient({ results: { photos: 'success', docs: 'failed' } });
  const r = await rbmctl(['sync', 'photos', 'docs', '--wait'], client);
  assert.ok(calls.indexOf('subscribe') < calls.findIndex((c) => c.startsWith('sync ')), 'subscribed first');
  assert.equal(r.code, 1, 'RunFailed');
  assert.match(r.stdout, /^photos: success \(run 100\): it was success$/m);
  assert.match(r.stdout, /^docs: failed \(run 101\): it was failed$/m);
  assert.match(r.stdout, /^ {2}error: boom$/m);
  assert.match(r.stdout, /^ {2}next: check the remote$/m);
  assert.ok(calls.includes('unsubscribe'));
  const mixed = await rbmctl(['sync', 'photos', 'docs', '--wait'], fakeClient({ results: { photos: 'retryable', docs: 'needs-resync' } }).client);
  assert.equal(mixed.code, 6, 'the most serious result wins: needs-resync over retryable');
  for (const [result, exit] of [['needs-approval', 7], ['needs-resync', 6], ['cancelled', 8], ['retryable', 75], ['locked', 5], ['conflicts', 0], ['dry-run', 0], ['no-changes', 0], ['check-failed', 11]] as const) {
    const one = await rbmctl(['sync', 'photos', '--wait'], fakeClient({ results: { photos: result } }).client);
    assert.equal(one.code, exit, result);
  }
});

test('sync --wait on a terminal draws a live progress line and replaces it with the outcome', async () => {
  const r = await rbmctl(['sync', 'photos', 'docs', '--wait'], fakeClient().client, { tty: true });
  assert.match(r.stdout, /docs: 50% {2}1\.0 KiB\/2\.0 KiB {2}1\/2 files {2}512 B\/s {2}ETA 2s\n/);
  assert.ok(r.stdout.includes('\x1b[1F\x1b[Jdocs: success (run 101)'), JSON.stringify(r.stdout));
  const json = JSON.parse((await rbmctl(['sync', 'photos', '--wait', '--json'], fakeClient().client)).stdout);
  assert.deepEqual(json.map((x: { job: string; run_id: string; result: string; exit_code: number }) => [x.job, x.run_id, x.result, x.exit_code]), [['photos', '100', 'success', 0]]);
});

test('approve lists the pending deletes with their token, asks on a terminal, and approves that token only on yes', async () => {
  const deletes = ['old/a.txt', 'old/b.txt'];
  const no = fakeClient({ deletes });
  const declined = await rbmctl(['approve', 'docs'], no.client, { stdin: 'n\n', stdinTty: true });
  assert.equal(declined.code, 7);
  assert.equal(declined.stdout, `docs: the last run stopped before deleting 2 files:\n  old/a.txt\n  old/b.txt\ntoken: ${TOKEN}\nDelete exactly these 2 files and sync docs? [y/N] Not approved; nothing changed.\n`);
  assert.ok(!no.calls.some((c) => c.startsWith('sync ') || c.startsWith('approve ')));
  const yes = fakeClient({ deletes });
  const approved = await rbmctl(['approve', 'docs'], yes.client, { stdin: 'y\n', stdinTty: true });
  assert.equal(approved.code, 0, approved.stderr);
  assert.ok(yes.calls.includes(`approve docs ${TOKEN}`), yes.calls.join('\n'));
  assert.ok(!yes.calls.some((c) => c.startsWith('sync ')), 'an approval never becomes a plain --force sync');
  const piped = fakeClient({ deletes });
  const noTty = await rbmctl(['approve', 'docs'], piped.client, { stdin: 'y\n' });
  assert.equal(noTty.code, 2, 'a piped "y" is not a confirmation');
  assert.match(noTty.stderr, new RegExp(`--yes --token ${TOKEN}`));
  assert.ok(!piped.calls.some((c) => c.startsWith('approve ')));
  const blind = fakeClient({ deletes });
  const yesOnly = await rbmctl(['approve', 'docs', '--yes'], blind.client);
  assert.equal(yesOnly.code, 2);
  assert.match(yesOnly.stderr, /--yes needs --token T/);
  assert.deepEqual(blind.calls, [], 'refused before connecting');
  const scripted = fakeClient({ deletes });
  assert.equal((await rbmctl(['approve', 'docs', '--yes', '--token', TOKEN], scripted.client)).code, 0);
  assert.ok(scripted.calls.includes(`approve docs ${TOKEN}`), scripted.calls.join('\n'));
  const nothing = await rbmctl(['approve', 'photos'], fakeClient().client);
  assert.equal(nothing.stdout, 'photos: nothing waits for approval\n');
});

test('approve shows the first 50 paths and a count; --all pages through the whole list', async () => {
  const deletes = Array.from({ length: 120 }, (_, i) => `d/${String(i).padStart(3, '0')}.txt`);
  const first = await rbmctl(['approve', 'docs'], fakeClient({ deletes }).client, { stdin: 'n\n', stdinTty: true });
  assert.match(first.stdout, / {2}d\/049\.txt\n {2}… and 70 more \(rbmctl approve docs --all lists them\)\n/);
  assert.ok(!first.stdout.includes('d/050.txt'));
  const all = await rbmctl(['approve', 'docs', '--all'], fakeClient({ deletes }).client, { stdin: 'n\n', stdinTty: true });
  for (const d of deletes) assert.ok(all.stdout.includes(`  ${d}\n`), d);
  assert.match(all.stdout, /Delete exactly these 120 files/);
});

test('sync --force-bisync with no job named is a usage error naming the flag', async () => {
  const { client, calls } = fakeClient();
  const r = await rbmctl(['sync', '--force-bisync'], client);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^rbmctl: --force-bisync needs the jobs named/);
  assert.deepEqual(calls, []);
  const named = fakeClient();
  assert.equal((await rbmctl(['sync', 'docs', '--force-bisync'], named.client)).code, 0);
  assert.ok(named.calls.includes('sync docs {"resync":false,"force":true,"dryRun":false}'), named.calls.join('\n'));
});

test('add-sync, add-job, remove-job, pause, resume, cancel, reload call the API with the right arguments', async () => {
  const { client, calls } = fakeClient();
  assert.equal((await rbmctl(['add-sync', 'a', 'b'], client)).code, 0);
  assert.equal((await rbmctl(['add-job', 'music', '--local', '/m', '--remote', 'gdrive:Music', '--schedule', '0 * * * *', '--check-access'], client)).code, 0);
  assert.equal((await rbmctl(['remove-job', 'music'], client)).code, 0);
  assert.equal((await rbmctl(['pause', 'a', 'b'], client)).stdout, 'paused: a, b\n');
  assert.equal((await rbmctl(['resume', 'a'], client)).code, 0);
  assert.equal((await rbmctl(['cancel', 'a'], client)).code, 0);
  assert.equal((await rbmctl(['reload'], client)).stdout, 'config reloaded\n');
  assert.deepEqual(
    calls.filter((c) => c !== 'close'),
    ['addJob a {}', 'addJob b {}', 'addJob music {"local":"/m","rclone_remote":"gdrive","remote":"Music","schedule":"0 * * * *","active":true,"check_access":true}', 'removeJob music', 'pause a,b', 'resume a', 'cancel a', 'reload'],
  );
});

test('daemon without a systemd user manager explains the foreground way; status asks the bus', async () => {
  const start = await rbmctl(['daemon', 'start'], fakeClient().client);
  assert.equal(start.code, 69);
  assert.match(start.stderr, /no systemd user manager runs here.*rclone-bisync-manager --console-log/);
  const status = await rbmctl(['daemon', 'status'], fakeClient().client);
  assert.equal(status.code, 0);
  assert.equal(status.stdout, 'rclone-bisync-manager 0.1.0 is running (not under systemd)\n');
  const ran: string[][] = [];
  const withSystemd = await rbmctl(['daemon', 'stop'], fakeClient().client, {
    runCommand: (cmd, args) => (ran.push([cmd, ...args]), Promise.resolve({ code: 0, stdout: args[1] === 'is-system-running' ? 'degraded\n' : '', stderr: '' })),
  });
  assert.equal(withSystemd.code, 0);
  assert.deepEqual(ran.at(-1), ['systemctl', '--user', 'stop', 'rclone-bisync-manager.service']);
});

test('an unexpected error prints one line and a hint, no stack trace unless RBM_DEBUG is set (issue 13 case 6)', async () => {
  const run = async (env: Record<string, string>) => {
    let stderr = '';
    const deps: CliDeps = {
      connect: () => Promise.reject(new Error('unused')),
      openStandalone: () => Promise.reject(new TypeError('boom')),
      runCommand: () => Promise.reject(new Error('unused')),
      now: () => NOW,
      probeRclone: () => Promise.reject(new Error('unused')),
    };
    const code = await main(['sync', '--standalone'], { stdout: { write: () => true }, stderr: { write: (t: string) => (stderr += t) }, stdin: new PassThrough(), env }, deps);
    return { code, stderr };
  };
  const plain = await run({});
  assert.equal(plain.code, 70);
  assert.equal(plain.stderr, 'rbmctl: internal error: boom\nThis is a bug: run the command again with RBM_DEBUG=1 to see where it happened, and report it.\n');
  const debug = await run({ RBM_DEBUG: '1' });
  assert.match(debug.stderr, /^rbmctl: internal error: boom\nTypeError: boom\n\s+at /);
});

test('read-only commands never let the bus start the service; commands that act may, unless --no-auto-start', async () => {
  const cases: [argv: string[], autoStart: boolean][] = [
    [['status'], false],
    [['status', 'photos'], false],
    [['jobs'], false],
    [['history', 'photos'], false],
    [['watch'], false],
    [['daemon', 'status'], false],
    [['--auto-start', 'status'], false],
    [['sync', 'photos'], true],
    [['add-sync', 'photos'], true],
    [['remove-job', 'photos'], true],
    [['pause', 'photos'], true],
    [['resume', 'photos'], true],
    [['cancel', 'photos'], true],
    [['reload'], true],
    [['daemon', 'reload'], true],
    [['approve', 'photos', '--yes', '--token', TOKEN], true],
    [['--no-auto-start', 'sync', 'photos'], false],
  ];
  for (const [argv, autoStart] of cases) {
    const seen: ClientOptions[] = [];
    const stopped = new AbortController();
    stopped.abort(); // watch returns at once
    const r = await rbmctl(argv, fakeClient().client, { abort: stopped.signal, connect: (options) => (seen.push(options), Promise.resolve(fakeClient().client)) });
    assert.notEqual(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    assert.deepEqual(seen.map((o) => o.autoStart), [autoStart], argv.join(' '));
    // The bus is found from rbmctl's environment (DBUS_SESSION_BUS_ADDRESS, else XDG_RUNTIME_DIR) by the client.
    assert.equal(seen[0]?.env?.DBUS_SESSION_BUS_ADDRESS, 'unix:path=/fake', argv.join(' '));
  }
});
