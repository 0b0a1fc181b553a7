// Hardening, security: after real runs and an AddJob, nothing the service touches is world-writable (even when it
// is started with umask 000), its own state, logs and config are 0600/0700, it listens on no socket (only its session
// bus connection), and secrets printed by rclone (URL passwords, password=, tokens) reach neither the logs nor History.
import assert from 'node:assert/strict';
import { chmodSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { treeHashes, writeFiles } from '../helpers/engine-env.js';
import { createPairEnv, modesUnder, socketsOf, startService, waitForRun, waitIdle, worldWritable, writeRcloneWrapper, type RunningService } from '../helpers/hardening.js';
import { serviceSuite } from '../helpers/service-env.js';

const suite = serviceSuite();

/** Start the service with the test process's umask set to `mask` (the child inherits it), then restore it. */
async function startWithUmask(t: TestContext, env: Parameters<typeof startService>[1], mask: number): Promise<RunningService> {
  const previous = process.umask(mask);
  try {
    return await startService(t, env, suite.bus().address);
  } finally {
    process.umask(previous);
  }
}

test('started with umask 000: state, logs, workdirs and the config AddJob rewrites are private (0600/0700); nothing is world-writable', { skip: suite.skip }, async (t) => {
  const { env, local, remote } = await createPairEnv(t, suite.rclone!, ['docs', 'added']);
  writeFiles(local('docs'), { 'a.txt': 'a\n', 'sub/b.txt': 'b\n' });
  writeFiles(remote('docs'), { 'from-remote.txt': 'r\n' });
  writeFiles(local('added'), { 'c.txt': 'c\n' });
  env.writeConfig(env.configText([{ name: 'docs' }], 'redirect_rclone_log_output: true'));
  chmodSync(env.configPath, 0o600);
  const svc = await startWithUmask(t, env, 0o000);
  const [runId] = await svc.client.sync(['docs']);
  const record = await waitForRun(svc.client, 'docs', runId!);
  assert.match(record.result, /^(success|no-changes)$/, record.message);
  await svc.client.addJob('added', { local: 'added', rclone_remote: '', remote: remote('added'), schedule: '0 0 1 1 *' });
  await waitForRun(svc.client, 'added', runId! + 1n);
  await waitIdle(svc.client);

  const configDir = join(env.home, '.config', 'rclone-bisync-manager');
  const report: string[] = [];
  for (const [what, root] of [['state dir', svc.stateDir], ['config dir', configDir], ['local side', local('docs')], ['remote side', remote('docs')], ['added local', local('added')], ['added remote', remote('added')]] as const) {
    const entries = modesUnder(root);
    report.push(`${what}: ${entries.length} entries`);
    assert.deepEqual(worldWritable(root), [], `${what}: no world-writable entry`);
  }
  // Our own files: private whatever the umask.
  const own = modesUnder(svc.stateDir).filter((e) => !e.rel.includes('/workdir/'));
  for (const e of own) assert.equal(e.mode, e.dir ? 0o700 : 0o600, `state dir ${e.rel}: ${e.mode.toString(8)}`);
  const names = own.map((e) => e.rel);
  for (const expected of ['logs/rclone-bisync-manager.log', 'logs/error.log', 'run-id', 'jobs/docs/state.json', 'jobs/docs/history.jsonl', 'jobs/added/state.json']) {
    assert.ok(names.includes(expected), `${expected} exists (and was checked)`);
  }
  for (const job of ['docs', 'added']) assert.equal(statSync(join(svc.stateDir, 'jobs', job, 'workdir')).mode & 0o777, 0o700, `${job} workdir is 0700`);
  assert.match(readFileSync(env.configPath, 'utf8'), /^ {2}added:$/m, 'AddJob rewrote the config');
  assert.equal(statSync(env.configPath).mode & 0o777, 0o600, 'the rewritten config keeps 0600');
  assert.deepEqual(readdirSync(configDir).filter((n) => n.endsWith('.tmp')), [], 'no temp file left beside the config');
  t.diagnostic(report.join('; '));
  assert.deepEqual(await svc.stop(), { code: 0, signal: null });
});

test('the service listens on no socket: besides stdio, its only socket is its session bus connection', { skip: suite.skip }, async (t) => {
  const { env, local } = await createPairEnv(t, suite.rclone!, ['net']);
  writeFiles(local('net'), { 'a.txt': 'a\n' });
  env.writeConfig(env.configText([{ name: 'net' }]));
  const svc = await startService(t, env, suite.bus().address);
  const [runId] = await svc.client.sync(['net']);
  await waitForRun(svc.client, 'net', runId!);
  await waitIdle(svc.client);
  const sockets = socketsOf(svc.daemon.pid);
  t.diagnostic(`service sockets: ${sockets.inodes.length} (${sockets.unixConnected} connected unix, ${sockets.unixListening.length} listening unix, ${sockets.inet.length} inet): ${sockets.unix.join(', ')}`);
  assert.deepEqual(sockets.inet, [], 'no TCP, UDP or raw socket at all');
  assert.deepEqual(sockets.unixListening, [], 'no listening unix socket');
  assert.deepEqual(sockets.unix, ['stream -'], 'one connected stream: the session bus connection');
  assert.equal(sockets.inodes.length, sockets.unixConnected, 'every socket is one of those');
  // The connection is to the bus we gave it: our name is owned there.
  assert.equal((await svc.client.status()).state, 'running');
  assert.deepEqual(await svc.stop(), { code: 0, signal: null });
});

const SECRETS = ['hunter2-url-secret', 'pw-secret-42', 'ya29-access-secret', 'refresh-secret-77', 'bearer-secret-xyz', 'apikey-secret-123'];

test('secrets in rclone output (URL passwords, password=, tokens, bearer, api keys) are never logged nor kept in History', { skip: suite.skip }, async (t) => {
  const { env, local } = await createPairEnv(t, suite.rclone!, ['secret']);
  writeFiles(local('secret'), { 'a.txt': 'a\n' });
  const wrapper = writeRcloneWrapper(env.dir, suite.rclone!, {
    print: [
      `2024/01/01 00:00:00 ERROR : sftp://alice:${SECRETS[0]}@files.example.invalid/home: connection refused`,
      `2024/01/01 00:00:00 NOTICE: retrying with password=${SECRETS[1]}`,
      `2024/01/01 00:00:00 INFO  : token = {"access_token":"${SECRETS[2]}","refresh_token":"${SECRETS[3]}","expiry":"2030-01-01"}`,
      `2024/01/01 00:00:00 DEBUG : Authorization: Bearer ${SECRETS[4]}`,
      `{"level":"error","msg":"upload failed: api_key=${SECRETS[5]} rejected","source":"x"}`,
    ],
  });
  env.writeConfig(env.configText([{ name: 'secret' }], `redirect_rclone_log_output: true`).replace(/^rclone_binary: .*$/m, `rclone_binary: ${wrapper}`));
  env.env.RBM_LOG_LEVEL = 'debug';
  const svc = await startService(t, env, suite.bus().address);
  const [runId] = await svc.client.sync(['secret']);
  const record = await waitForRun(svc.client, 'secret', runId!);
  await waitIdle(svc.client);
  assert.ok((record.tail ?? []).some((l) => l.includes('files.example.invalid')), 'the lines did reach the service (they are in the tail)');
  assert.deepEqual(await svc.stop(), { code: 0, signal: null });

  const logs = readdirSync(join(svc.stateDir, 'logs')).map((n) => readFileSync(join(svc.stateDir, 'logs', n), 'utf8')).join('\n');
  assert.ok(logs.includes('files.example.invalid'), 'rclone lines were copied into the log (redirect_rclone_log_output)');
  const places: [string, string][] = [
    ['log files', logs],
    ['console output', svc.daemon.output()],
    ['History (message, error, tail)', JSON.stringify(record, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))],
    ['history file', readFileSync(join(svc.stateDir, 'jobs', 'secret', 'history.jsonl'), 'utf8')],
  ];
  for (const [where, text] of places) {
    for (const secret of SECRETS) assert.ok(!text.includes(secret), `${where} must not contain ${secret}`);
  }
  assert.deepEqual(treeHashes(join(env.syncRoot, 'remote', 'secret')), treeHashes(local('secret')), 'the sync itself went through');
});
