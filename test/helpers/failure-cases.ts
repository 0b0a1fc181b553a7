// Issue 13 cases 4–7 with the real rclone that RBM_TEST_RCLONE names (1.75 from test/integration/failures.test.ts,
// Debian's 1.60 from test/compat/failures.test.ts): permanent errors, seeding options, one-shot with cpulimit,
// error.log lines. Each case is set up as the issue describes it; both sides are checked by sha256.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { jobPaths } from '../../src/state/paths.js';
import { createLogger, ERROR_LOG_NAME, MAIN_LOG_NAME } from '../../src/log/logger.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { hashOf, tempDir, treeHashes, writeFiles } from './engine-env.js';
import { createFailureEnv } from './failure-env.js';
import { startSftpServer, type SftpServer } from './sftp-server.js';
import { rcloneVersion, requireProgram, testRclone } from './tools.js';

/** One low-level retry and a short connect timeout: a refused connection fails at once. */
const QUICK = { low_level_retries: 1, contimeout: '5s' };

function setup(t: TestContext): { rclone: string; modern: boolean; dir: string } | undefined {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone) return undefined;
  const v = rcloneVersion(rclone);
  return { rclone, modern: v.major > 1 || v.minor >= 66, dir: tempDir(t, 'rbm-fail-') };
}

/** An rclone config naming the test server as `box`, with the password given (obscured as rclone stores it). */
function writeRcloneConfig(rclone: string, server: SftpServer, path: string, password: string, section = 'box'): void {
  const obscured = execFileSync(rclone, ['obscure', password], { encoding: 'utf8' }).trim();
  writeFileSync(path, `[${section}]\ntype = sftp\nhost = 127.0.0.1\nport = ${server.port}\nuser = rbm\npass = ${obscured}\nknown_hosts_file = \n`, { mode: 0o600 });
}

function mtimeLater(path: string, seconds: number): void {
  const t = Date.now() / 1000 + seconds;
  utimesSync(path, t, t);
}

export function registerFailureCases(): void {
  test('case 4: a remote missing from rclone.conf is failed, never retried, and names the remote (new job: at setup; synced job: at the bisync)', async (t) => {
    const s = setup(t);
    if (!s) return;
    const server = await startSftpServer(t, s.rclone, s.dir);
    const configPath = server.env.RCLONE_CONFIG ?? '';
    const env = createFailureEnv({ rclone: s.rclone, dir: s.dir, path2: 'nosuch:share', env: server.env, job: { rcloneOptions: QUICK } });
    const local = env.job.local;
    writeFiles(local, { 'a.txt': 'a\n', 'b.txt': 'b\n' });
    const localBefore = treeHashes(local);

    const first = await env.run();
    assert.equal(first.outcome, 'failed', first.message);
    assert.equal(first.message, 'setting up the pair failed (rclone mkdir nosuch:share): the remote "nosuch" is not in rclone\'s config file; nothing was changed');
    assert.match(first.hint, /rclone config/);
    assert.match(first.errorText, /didn't find section in config file/);
    // The hash detection (backend features) may run first; after the failed mkdir nothing else runs.
    assert.deepEqual(env.spawned.map((p) => p.args[0]).filter((c) => c !== 'backend'), ['mkdir'], 'no resync after a failed setup step');
    const state = env.runner.readState('pair');
    assert.equal(state.retryAtMs, 0, 'not retried');
    assert.equal(state.needsResync, false);
    assert.deepEqual(treeHashes(local), localBefore);

    // The same job on a remote that exists: synced, then the section disappears from rclone.conf.
    const remoteRoot = join(server.root, 'share');
    const good = await env.run({}, { path2: 'box:share' });
    assert.equal(good.outcome, 'success', `${good.message}\n${good.tail.join('\n')}`);
    assert.deepEqual(treeHashes(remoteRoot), localBefore);
    writeFileSync(configPath, readFileSync(configPath, 'utf8').replace('[box]', '[renamed]'));
    writeFiles(local, { 'a.txt': 'a changed\n' });
    mtimeLater(join(local, 'a.txt'), 60);
    const gone = await env.run({}, { path2: 'box:share' });
    assert.equal(gone.outcome, 'failed', gone.message);
    assert.equal(gone.message, 'the remote "box" is not in rclone\'s config file; nothing was changed');
    assert.equal(env.runner.readState('pair').retryAtMs, 0);
    assert.deepEqual(treeHashes(remoteRoot), localBefore, 'the remote is untouched');
    assert.equal(treeHashes(local)['a.txt'], hashOf('a changed\n'));
  });

  test('case 4: a wrong sftp password is failed ("refused the login"), not "could not be reached", and never retried', async (t) => {
    const s = setup(t);
    if (!s) return;
    const server = await startSftpServer(t, s.rclone, s.dir);
    const wrongConfig = join(s.dir, 'wrong-pass.conf');
    writeRcloneConfig(s.rclone, server, wrongConfig, 'not-the-password');
    const wrongEnv = { ...server.env, RCLONE_CONFIG: wrongConfig };
    const env = createFailureEnv({ rclone: s.rclone, dir: s.dir, path2: 'box:share', env: wrongEnv, job: { rcloneOptions: QUICK } });
    writeFiles(env.job.local, { 'a.txt': 'a\n' });

    const first = await env.run();
    assert.equal(first.outcome, 'failed', first.message);
    assert.equal(first.message, 'setting up the pair failed (rclone mkdir box:share): the remote "box" refused the login; nothing was changed');
    assert.match(first.hint, /rclone config update box/);
    assert.equal(env.runner.readState('pair').retryAtMs, 0);
    assert.deepEqual(readdirSync(server.root), [], 'nothing was created on the server');

    // A synced job whose password stops working.
    const okEnv = createFailureEnv({ rclone: s.rclone, dir: join(s.dir, 'second'), path2: 'box:share', env: server.env, job: { rcloneOptions: QUICK } });
    writeFiles(okEnv.job.local, { 'a.txt': 'a\n', 'b.txt': 'b\n' });
    const synced = await okEnv.run();
    assert.equal(synced.outcome, 'success', synced.message);
    const remoteRoot = join(server.root, 'share');
    const remoteBefore = treeHashes(remoteRoot);
    const wrongOk = createFailureEnv({ rclone: s.rclone, dir: join(s.dir, 'second'), path2: 'box:share', env: wrongEnv, job: { rcloneOptions: QUICK } });
    writeFiles(okEnv.job.local, { 'c.txt': 'c\n' });
    const refused = await wrongOk.run();
    assert.equal(refused.operation, 'bisync');
    assert.equal(refused.outcome, 'failed', refused.message);
    assert.equal(refused.message, 'the remote "box" refused the login; nothing was changed');
    assert.equal(wrongOk.runner.readState('pair').retryAtMs, 0);
    assert.deepEqual(treeHashes(remoteRoot), remoteBefore);
  });

  test('case 4: one unreadable file or folder is failed and named; the rest syncs where rclone can; fixed, the next run syncs all', async (t) => {
    const s = setup(t);
    if (!s) return;
    const remote = join(s.dir, 'remote');
    const env = createFailureEnv({ rclone: s.rclone, dir: s.dir, path2: remote, env: { ...process.env, RCLONE_CONFIG: join(s.dir, 'none.conf') }, unprivileged: true });
    const local = env.job.local;
    writeFiles(local, { 'a.txt': 'a\n', 'b.txt': 'b\n', 'c.txt': 'c\n', 'd.txt': 'd\n' });
    const first = await env.run();
    assert.equal(first.outcome, 'success', `${first.message}\n${first.tail.join('\n')}`);

    // One file nobody may read, and an ordinary change beside it.
    const secret = join(local, 'secret.txt');
    writeFileSync(secret, 'secret\n');
    chmodSync(secret, 0o000);
    writeFiles(local, { 'a.txt': 'a changed\n' });
    mtimeLater(join(local, 'a.txt'), 60);
    const remoteBefore = treeHashes(remote);
    const denied = await env.run();
    assert.equal(denied.outcome, 'failed', denied.message);
    assert.ok(denied.message.startsWith(`permission denied: ${secret}; `), denied.message);
    assert.match(denied.hint, /chmod/);
    let state = env.runner.readState('pair');
    assert.equal(state.retryAtMs, 0, 'not retried');
    assert.equal(state.needsResync, false);
    // 1.60 hashes every file to list it and stops before any copy. 1.75 on local disks compares size and modtime
    // (fine modtimes: no checksums, session 6), so it copies a.txt and fails on the file it cannot read.
    assert.deepEqual(treeHashes(remote), s.modern ? { ...remoteBefore, 'a.txt': hashOf('a changed\n') } : remoteBefore);

    const again = await env.run();
    assert.equal(again.outcome, 'failed', again.message);
    assert.ok(again.message.startsWith(`permission denied: ${secret}; `), again.message);
    state = env.runner.readState('pair');
    assert.equal(state.consecutiveFailures, 2);
    assert.equal(state.retryAtMs, 0);

    chmodSync(secret, 0o644);
    const fixed = await env.run();
    // 1.75 first restores its listings (--recover); a.txt, already copied, is equal on both sides: no conflict.
    assert.equal(fixed.outcome, 'success', `${fixed.message}\n${fixed.tail.join('\n')}`);
    assert.deepEqual(treeHashes(remote), treeHashes(local));
    assert.equal(treeHashes(remote)['secret.txt'], hashOf('secret\n'));

    // One folder nobody may list, and a change beside it.
    const privateDir = join(local, 'private');
    mkdirSync(privateDir);
    writeFileSync(join(privateDir, 'p.txt'), 'p\n');
    chmodSync(privateDir, 0o000);
    writeFiles(local, { 'b.txt': 'b changed\n' });
    mtimeLater(join(local, 'b.txt'), 120);
    const remoteBeforeDir = treeHashes(remote);
    const dirDenied = await env.run();
    assert.equal(dirDenied.outcome, 'failed', `1.75 called this "retryable": ${dirDenied.message}`);
    assert.ok(dirDenied.message.startsWith(`permission denied: ${privateDir}; `), dirDenied.message);
    assert.equal(env.runner.readState('pair').retryAtMs, 0);
    // 1.60 syncs the rest around the folder; 1.75 stops while listing ("too dangerous to continue").
    const expectedDir = s.modern ? remoteBeforeDir : { ...remoteBeforeDir, 'b.txt': hashOf('b changed\n') };
    assert.deepEqual(treeHashes(remote), expectedDir);

    chmodSync(privateDir, 0o755);
    const dirFixed = await env.run();
    assert.equal(dirFixed.outcome, 'success', `${dirFixed.message}\n${dirFixed.tail.join('\n')}`);
    assert.deepEqual(treeHashes(remote), treeHashes(local));
    assert.equal(treeHashes(remote)['private/p.txt'], hashOf('p\n'));
  });

  test('case 5: options meant for bisync are not given to the setup commands; check-config says where each applies', async (t) => {
    const s = setup(t);
    if (!s) return;
    const home = join(s.dir, 'home');
    mkdirSync(home);
    const configFile = join(s.dir, 'config.yaml');
    const yaml = (remote: string) =>
      `local_base_path: ${s.dir}\nrclone_binary: ${s.rclone}\nrclone_options:\n  compare: size,modtime,checksum\n  transfers: 2\nsync_jobs:\n  pair:\n    local: local\n    rclone_remote: box\n    remote: ${remote}\n    schedule: "0 * * * *"\n    check_access: true\n    rclone_options:\n      create_empty_src_dirs: true\n`;
    writeFileSync(configFile, yaml('share'));
    let out = '';
    const code = await main(['check-config', '--config', configFile], { stdout: { write: (x: string) => (out += x) }, stderr: { write: (x: string) => (out += x) }, stdin: process.stdin, env: { HOME: home } });
    if (!s.modern) {
      // rclone 1.60 has neither flag: check-config refuses them up front (never a bare "bisync aborted" later).
      assert.equal(code, 78, out);
      assert.match(out, /--compare needs rclone >= 1\.66/);
      assert.match(out, /--create-empty-src-dirs needs rclone >= 1\.64/);
      return;
    }
    assert.equal(code, 0, out);
    assert.match(out, /^ {2}rclone_options\.compare: bisync only \(bisync and resync runs\); not given to the setup commands \(mkdir, lsf, touch\)$/m);
    assert.match(out, /^ {2}sync_jobs\.pair\.rclone_options\.create_empty_src_dirs: bisync only /m);
    assert.doesNotMatch(out, /transfers/, 'a global flag needs no note');

    const server = await startSftpServer(t, s.rclone, s.dir);
    const env = createFailureEnv({
      rclone: s.rclone, dir: s.dir, path2: 'box:share', env: server.env,
      global: { rcloneOptions: { compare: 'size,modtime,checksum', transfers: 2 } },
      job: { checkAccess: true, rcloneOptions: { create_empty_src_dirs: true, ...QUICK } },
    });
    const local = env.job.local;
    writeFiles(local, { 'a.txt': 'a\n', 'sub/b.txt': 'b\n' });
    mkdirSync(join(local, 'empty-dir'));
    const first = await env.run();
    assert.equal(first.outcome, 'success', `${first.message}\n${first.tail.join('\n')}`);
    const setupCommands = env.spawned.filter((p) => p.command === s.rclone && p.args[0] !== 'bisync');
    const names = setupCommands.map((p) => p.args[0]);
    for (const name of ['mkdir', 'lsf', 'touch']) assert.ok(names.includes(name), `the setup ran rclone ${name}: ${names.join(' ')}`);
    for (const p of setupCommands) {
      assert.ok(!p.args.some((a) => a.startsWith('--compare') || a.startsWith('--create-empty-src-dirs')), `no bisync flag in ${p.args.join(' ')}`);
      assert.ok(p.args.includes('--transfers=2'), `global flags still apply: ${p.args.join(' ')}`);
    }
    const resync = env.spawned.find((p) => p.args[0] === 'bisync')?.args ?? [];
    assert.ok(resync.includes('--compare=size,modtime,checksum') && resync.includes('--create-empty-src-dirs'), resync.join(' '));
    const remoteRoot = join(server.root, 'share');
    assert.deepEqual(treeHashes(remoteRoot, { keepSentinel: true }), { ...treeHashes(local), RCLONE_TEST: hashOf('') });
    assert.ok(statSync(join(remoteRoot, 'empty-dir')).isDirectory(), 'create_empty_src_dirs reached the resync');
  });

  test('case 5: a failed setup step fails the run with its real cause (the server is down at the first run)', async (t) => {
    const s = setup(t);
    if (!s) return;
    const server = await startSftpServer(t, s.rclone, s.dir);
    await server.stop();
    const env = createFailureEnv({ rclone: s.rclone, dir: s.dir, path2: 'box:share', env: server.env, job: { rcloneOptions: QUICK } });
    writeFiles(env.job.local, { 'a.txt': 'a\n' });
    const record = await env.run();
    assert.equal(record.outcome, 'retryable', 'an unreachable remote is transient');
    assert.equal(record.message, 'setting up the pair failed (rclone mkdir box:share): the remote could not be reached; nothing was changed');
    assert.match(record.errorText, /connection refused/);
    assert.deepEqual(env.spawned.map((p) => p.args[0]).filter((c) => c !== 'backend'), ['mkdir']);
    await server.start();
    const next = await env.run();
    assert.equal(next.outcome, 'success', next.message);
    assert.deepEqual(treeHashes(join(server.root, 'share')), treeHashes(env.job.local));
  });

  test('case 6: rbmctl sync --standalone --dry-run with max_cpu_usage_percent: 50 exits 0 with no stack trace; cpulimit is reaped before a run ends', async (t) => {
    const s = setup(t);
    const cpulimit = requireProgram(t, 'cpulimit');
    if (!s || !cpulimit) return;
    const home = join(s.dir, 'home');
    const sync = join(home, 'Sync');
    for (const name of ['a', 'b']) {
      writeFiles(join(sync, name), { '1.txt': `${name}1\n`, '2.txt': `${name}2\n` });
      mkdirSync(join(s.dir, 'remote', name), { recursive: true });
    }
    const jobs = ['a', 'b'].map((name) => `  ${name}:\n    local: ${name}\n    rclone_remote: ""\n    remote: ${join(s.dir, 'remote', name)}\n    schedule: "0 * * * *"\n`).join('');
    const configFile = join(s.dir, 'config.yaml');
    writeFileSync(configFile, `local_base_path: ${sync}\nrclone_binary: ${s.rclone}\nmax_cpu_usage_percent: 50\nsync_jobs:\n${jobs}`);
    writeFileSync(join(s.dir, 'rclone.conf'), '');
    const before = { a: treeHashes(join(sync, 'a')), remote: treeHashes(join(s.dir, 'remote')) };

    // The real rbmctl executable, as the issue ran it.
    const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/bin/rbmctl.ts'), '--config', configFile, 'sync', '--standalone', '--dry-run'], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH, HOME: home, XDG_STATE_HOME: join(s.dir, 'state'), RCLONE_CONFIG: join(s.dir, 'rclone.conf') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    assert.equal(exitCode, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /^a: dry-run \(run \d+\): /m);
    assert.match(stdout, /^b: dry-run \(run \d+\): /m);
    assert.doesNotMatch(stderr, /Error|^\s+at /m, stderr);
    assert.deepEqual(treeHashes(join(sync, 'a')), before.a);
    assert.deepEqual(treeHashes(join(s.dir, 'remote')), before.remote, 'a dry run changes nothing');

    // In-process: cpulimit is attached to rclone and reaped before the run resolves, so the logger can close at once.
    const logDir = join(s.dir, 'logs');
    const logger = createLogger({ logDir, console: false, journal: false, level: 'debug' });
    const env = createFailureEnv({ rclone: s.rclone, dir: join(s.dir, 'engine'), path2: join(s.dir, 'remote', 'a'), env: { ...process.env, RCLONE_CONFIG: join(s.dir, 'rclone.conf') }, global: { maxCpuUsagePercent: 50 }, cpulimitPath: cpulimit, logger });
    writeFiles(env.job.local, { 'x.txt': 'x\n' });
    const record = await env.run({ dryRun: true });
    const limiters = env.spawned.filter((p) => p.command === cpulimit);
    // The bisync runs carry the load; the short helper commands around them (the resync guard's comparison, the hash
    // detection) run without a limiter.
    const rclones = env.spawned.filter((p) => p.command === s.rclone && p.args[0] === 'bisync');
    assert.equal(record.outcome, 'dry-run', record.message);
    assert.equal(limiters.length, rclones.length, 'one cpulimit per rclone bisync process');
    assert.deepEqual(limiters.map((l) => l.args[0]), rclones.map((r) => `--pid=${r.child.pid}`));
    assert.deepEqual(limiters.map((l) => l.reaped), limiters.map(() => true), 'every cpulimit is reaped when the run ends');
    await logger.close();
    assert.equal(readFileSync(join(logDir, ERROR_LOG_NAME), 'utf8'), '');
  });

  test('case 7: needs-approval, needs-resync and a job failing again and again: info run-end lines with the job, what happened and what to do; no error.log line from a run', async (t) => {
    const s = setup(t);
    if (!s) return;
    const server = await startSftpServer(t, s.rclone, s.dir);
    const logDir = join(s.dir, 'logs');
    const logger = createLogger({ logDir, console: false, journal: false, level: 'info' });
    let closed = false;
    t.after(async () => void (closed ? undefined : await logger.close()));
    const remote = join(s.dir, 'remote');
    const env = createFailureEnv({ rclone: s.rclone, dir: s.dir, path2: remote, env: server.env, logger });
    const local = env.job.local;
    const files = ['a.txt', 'b.txt', 'c.txt', 'd.txt', 'e.txt'];
    writeFiles(local, Object.fromEntries(files.map((f) => [f, `${f}\n`])));
    assert.equal((await env.run()).outcome, 'success');

    // needs-approval: four of five files deleted locally.
    for (const f of files.slice(1)) unlinkSync(join(local, f));
    const remoteBefore = treeHashes(remote);
    const approval = await env.run();
    assert.equal(approval.outcome, 'needs-approval', approval.message);
    assert.deepEqual(treeHashes(remote), remoteBefore, 'nothing deleted');
    assert.equal((await env.run({ force: true })).outcome, 'success');

    // needs-resync: rclone's listings are gone (and with them the --recover backup).
    rmSync(jobPaths(join(s.dir, 'state'), 'pair').workdir, { recursive: true, force: true });
    const lockout = await env.run();
    assert.equal(lockout.outcome, 'needs-resync', lockout.message);

    // Failing again and again: an sftp job whose server is down, three runs.
    const sftp = createFailureEnv({ rclone: s.rclone, dir: join(s.dir, 'sftp'), path2: 'box:share', env: server.env, logger, job: { name: 'remote-job', rcloneOptions: QUICK } });
    writeFiles(sftp.job.local, { 'r.txt': 'r\n' });
    assert.equal((await sftp.run()).outcome, 'success');
    await server.stop();
    const failures = [await sftp.run(), await sftp.run(), await sftp.run()];
    assert.deepEqual(failures.map((r) => r.outcome), ['retryable', 'retryable', 'retryable']);
    await logger.close();
    closed = true;

    // A run's end is an info line: the one error/warning line per problem is the service's alerts' (when the job's
    // health changes; failing after failures_before_alert runs), checked in test/unit/alerts-service.test.ts.
    assert.equal(readFileSync(join(logDir, ERROR_LOG_NAME), 'utf8'), '', 'no run end is an error line');
    const mainLines = readFileSync(join(logDir, MAIN_LOG_NAME), 'utf8').trim().split('\n');
    const find = (re: RegExp) => mainLines.filter((l) => re.test(l));
    assert.equal(find(/INFO {2}\[pair#\d+\] job pair waits for your approval: safety abort \(too many deletes\): nothing was deleted.*What to do: Review the pending deletes and approve exactly that list with: rbmctl approve pair/).length, 1, mainLines.join('\n'));
    assert.equal(find(/INFO {2}\[pair#\d+\] job pair needs a resync: bisync is locked out: no trusted listings were found\. What to do: Check both sides, then run rbmctl sync pair --resync/).length, 1, mainLines.join('\n'));
    assert.equal(find(/INFO {2}\[remote-job#\d+\] bisync retryable: the remote could not be reached; nothing was changed/).length, 3, mainLines.join('\n'));
    assert.deepEqual(find(/ (WARN|ERROR) .*(needs a resync|waits for your approval|retryable)/), [], 'no run end above info');
  });
}
