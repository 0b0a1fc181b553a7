// Issue 13, case 9 as the issue writes it, on whichever rclone the test file runs: a job whose rclone_options hold
// `sftp_pass`, `b2_key` and `s3_secret_access_key` syncs against a real `rclone serve sftp` whose rclone.conf has no
// password (so the sync works only if the secret reached rclone), with the service at debug level and rclone at -vv
// (which prints the values it read from its environment). A throwaway second local user reads the running rclone's
// /proc/PID/cmdline (world-readable) and tries its environ; then every file the service wrote, its console output,
// History, Status, the job's properties and an error reply are searched for the secret values.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { TestContext } from 'node:test';
import { isSecretOption } from '../../src/rclone/secret-options.js';
import { cmdline, rcloneChildren, startService, transferStarted, waitForRun, waitIdle, waitUntil } from './hardening.js';
import { hashOf, tempDir, treeHashes, writeFiles } from './engine-env.js';
import { createServiceEnv } from './service-env.js';
import { SFTP_PASS, startSftpServer } from './sftp-server.js';
import { findProgram, IN_CI } from './tools.js';

export interface OtherUser {
  name: string;
  uid: number;
  gid: number;
  /** Run a program as this user (argv, no shell). */
  run(command: string, args: string[]): { status: number | null; stdout: string; stderr: string };
}

/** A throwaway system user, removed after the test; skips (fails under CI=true) where users cannot be created. */
export function createOtherUser(t: TestContext): OtherUser | undefined {
  const missing = process.getuid?.() !== 0 ? 'root (to create a second local user)' : !findProgram('useradd') || !findProgram('userdel') ? 'useradd/userdel' : undefined;
  if (missing !== undefined) {
    if (IN_CI) throw new Error(`CI=true and this test needs ${missing}`);
    t.skip(`needs ${missing}`);
    return undefined;
  }
  const name = `rbmsec${randomBytes(4).toString('hex')}`;
  execFileSync('useradd', ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', '--user-group', name]);
  t.after(() => {
    execFileSync('userdel', [name]);
  });
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  return {
    name,
    uid,
    gid,
    run(command, args) {
      const r = spawnSync(command, args, { uid, gid, cwd: '/', encoding: 'utf8' });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
  };
}

/** Every regular file under `root` (relative path → content), skipping `except`. */
function filesUnder(root: string, except: (path: string) => boolean): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && !except(path)) out.set(relative(root, path), readFileSync(path, 'latin1'));
    }
  };
  walk(root);
  return out;
}

/**
 * A wrapper that runs the real rclone with -vv for bisync (rclone then prints the flag values it read from its
 * environment, after their names), and first prints the secrets it received bare, as a backend that echoes a rejected
 * credential would: those can only be masked by value. A test tool only: the product never uses a shell.
 */
function verboseWrapper(dir: string, rclone: string): string {
  const path = join(dir, 'rclone-vv.sh');
  const echo = `printf '{"level":"info","msg":"backend echo: %s %s %s","source":"wrapper"}\\n' "$RCLONE_SFTP_PASS" "$RCLONE_B2_KEY" "$RCLONE_S3_SECRET_ACCESS_KEY" >&2`;
  writeFileSync(path, `#!/bin/sh\nif [ "$1" = bisync ]; then\n  ${echo}\n  exec '${rclone}' "$@" -vv\nfi\nexec '${rclone}' "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}

const B2_KEY = `b2key-${randomBytes(6).toString('hex')}`;
const S3_SECRET = `s3secret-${randomBytes(6).toString('hex')}`;

export async function runSecretsCase(t: TestContext, rclone: string, busAddress: string): Promise<void> {
  const other = createOtherUser(t);
  if (!other) return;
  const dir = tempDir(t, 'rbm-secrets-');
  const server = await startSftpServer(t, rclone, dir);
  // The remote's config has no password: only the job's sftp_pass (obscured, as rclone wants it) can open it.
  const rcloneConf = server.env.RCLONE_CONFIG!;
  writeFileSync(rcloneConf, readFileSync(rcloneConf, 'utf8').replace(/^pass = .*\n/m, ''));
  const sftpPass = execFileSync(rclone, ['obscure', SFTP_PASS], { encoding: 'utf8' }).trim();
  const secrets = [sftpPass, SFTP_PASS, B2_KEY, S3_SECRET];

  const env = await createServiceEnv(t, { rclone });
  env.env.RCLONE_CONFIG = rcloneConf;
  env.env.RBM_LOG_LEVEL = 'debug';
  const local = join(env.syncRoot, 'local', 'vault');
  const remote = join(server.root, 'vault');
  const expected: Record<string, string> = {};
  const big = randomBytes(4 * 1024 * 1024);
  writeFiles(local, { 'big.bin': big, 'a.txt': 'local file\n' });
  writeFiles(remote, { 'r.txt': 'remote file\n' });
  for (const [rel, content] of [['big.bin', big], ['a.txt', 'local file\n'], ['r.txt', 'remote file\n']] as const) expected[rel] = hashOf(content);
  const options = (withPass: boolean): string =>
    [
      '    rclone_options:',
      withPass ? `      sftp_pass: "${sftpPass}"` : '',
      `      b2_key: "${B2_KEY}"`,
      `      s3_secret_access_key: "${S3_SECRET}"`,
      '      bwlimit: "512k"',
      '      low_level_retries: 1',
      '      contimeout: "5s"',
    ].filter((l) => l !== '').join('\n');
  env.writeConfig(
    [
      `local_base_path: ${join(env.syncRoot, 'local')}`,
      `rclone_binary: ${verboseWrapper(dir, rclone)}`,
      'redirect_rclone_log_output: true',
      'sync_jobs:',
      '  vault:',
      '    local: vault',
      '    rclone_remote: box',
      '    remote: vault',
      '    schedule: "0 0 1 1 *"',
      options(true),
      '  nopass:',
      '    local: nopass',
      '    rclone_remote: box',
      '    remote: nopass',
      '    schedule: "0 0 1 1 *"',
      options(false),
    ].join('\n') + '\n',
  );
  writeFiles(join(env.syncRoot, 'local', 'nopass'), { 'n.txt': 'n\n' });
  const svc = await startService(t, env, busAddress);
  const replies: string[] = [];
  const keep = (what: string, value: unknown): void => {
    replies.push(`${what}: ${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
  };

  await t.test('rclone wants the obscured password in RCLONE_SFTP_PASS, as on the command line and in rclone.conf', () => {
    const lsf = (pass: string): { status: number | null; stderr: string } => {
      const r = spawnSync(rclone, ['lsf', `${server.name}:`, '--low-level-retries=1'], { env: { ...server.env, RCLONE_SFTP_PASS: pass }, encoding: 'utf8' });
      return { status: r.status, stderr: r.stderr };
    };
    assert.equal(lsf(sftpPass).status, 0, 'the obscured value opens the remote');
    const plain = lsf(SFTP_PASS);
    assert.notEqual(plain.status, 0, 'the plain password does not');
    assert.match(plain.stderr, /obscured/);
  });

  await t.test('without sftp_pass the remote cannot be opened (the control: the password is not in rclone.conf)', async () => {
    const [runId] = await svc.client.sync(['nopass']);
    const record = await waitForRun(svc.client, 'nopass', runId!);
    keep('History(nopass)', record);
    assert.notEqual(record.result, 'success', record.message);
    assert.deepEqual(readdirSync(server.root).filter((n) => n === 'nopass'), [], 'nothing reached the server');
  });

  await t.test('while rclone runs, a second local user reads its command line without a secret and cannot read its environment', async () => {
    const [runId] = await svc.client.sync(['vault']);
    let pid: number | undefined;
    await waitUntil('the bisync rclone to start and bytes to arrive on the server', () => {
      pid = rcloneChildren(svc.daemon.pid).find((p) => cmdline(p).includes('--resync'));
      return pid !== undefined && transferStarted(remote, 1);
    });
    const seen = other.run('cat', [`/proc/${pid}/cmdline`]);
    const argv = seen.stdout.split('\0');
    assert.equal(seen.status, 0, `the other user can read cmdline: ${seen.stderr}`);
    assert.ok(argv.includes('bisync') && argv.some((a) => a.startsWith('--workdir=')) && argv.includes('--bwlimit=512k'), `it is the running bisync: ${argv.join(' ')}`);
    for (const secret of secrets) assert.ok(!seen.stdout.includes(secret), `cmdline (as ${other.name}) must not hold ${secret}`);
    assert.ok(!argv.some((a) => /^--(sftp-pass|b2-key|s3-secret-access-key)/.test(a)), 'no secret flag on the command line');
    const environ = other.run('cat', [`/proc/${pid}/environ`]);
    assert.notEqual(environ.status, 0, 'the other user cannot read environ');
    assert.match(environ.stderr, /Permission denied/);
    assert.equal(environ.stdout, '');
    // The owner can: that is how the secrets got there.
    const own = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    for (const [name, value] of [['RCLONE_SFTP_PASS', sftpPass], ['RCLONE_B2_KEY', B2_KEY], ['RCLONE_S3_SECRET_ACCESS_KEY', S3_SECRET]]) {
      assert.ok(own.includes(`${name}=${value}`), `rclone's environment has ${name}`);
    }
    assert.equal(other.run('cat', [join(svc.stateDir, 'logs', 'rclone-bisync-manager.log')]).status !== 0, true, 'nor can it read the logs');
    assert.deepEqual(rcloneChildren(svc.daemon.pid).filter((p) => p === pid), [pid], 'the same rclone was still running after the reads');
    const record = await waitForRun(svc.client, 'vault', runId!);
    keep('History(vault)', record);
    assert.equal(record.result, 'success', `${record.message}\n${(record.tail ?? []).join('\n')}`);
    assert.deepEqual(treeHashes(local), expected, 'local side');
    assert.deepEqual(treeHashes(remote), expected, 'sftp side: the sync worked with the password from the environment');
  });

  await t.test('an error run (server down) and a refused definition (a secret as a list) keep the secrets out of their messages', async () => {
    await server.stop();
    writeFiles(local, { 'later.txt': 'after the server went down\n' });
    const [runId] = await svc.client.sync(['vault']);
    const record = await waitForRun(svc.client, 'vault', runId!);
    keep('History(vault, failed)', record);
    assert.notEqual(record.result, 'success');
    assert.ok(record.message !== '' || record.error !== '', 'the failure is described');
    const refused = await svc.client.addJob('listed', { local: 'listed', rclone_remote: 'box', remote: 'listed', schedule: '0 0 1 1 *', rclone_options: { sftp_pass: [sftpPass, B2_KEY] } }).then(
      () => 'accepted',
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    );
    keep('AddJob error', refused);
    assert.match(refused, /holds a secret and takes one value/);
    await waitIdle(svc.client);
    keep('Status', await svc.client.status());
    keep('History(all)', await svc.client.history('', 100));
    for (const name of ['Name', 'Local', 'Remote', 'State', 'LastResult', 'LastError']) keep(`vault.${name}`, await svc.client.getProperty(name, 'vault'));
  });

  assert.deepEqual(await svc.stop(), { code: 0, signal: null });
  const configPath = env.configPath;
  const written = filesUnder(env.home, (path) => path === configPath);
  const logs = [...written].filter(([rel]) => rel.includes('/logs/')).map(([, text]) => text).join('\n');
  assert.ok(logs.includes('starting rclone') && logs.includes('RCLONE_SFTP_PASS'), 'the debug path ran (argv and the names of the secret variables are logged)');
  assert.ok(/RCLONE_B2_KEY="?\*\*\*/.test(logs) || /b2-key[=" ]+\*\*\*/.test(logs), 'rclone -vv printed the value it read, and the log has it masked');
  assert.ok(logs.includes('backend echo: *** *** ***'), 'the bare echoed values reached the log, masked by value');
  const places: [string, string][] = [...written].map(([rel, text]) => [`file ${rel}`, text]);
  places.push(['console output', svc.daemon.output()], ...replies.map((r): [string, string] => [r.slice(0, r.indexOf(':')), r]));
  t.diagnostic(`searched ${written.size} files under the service's HOME (state, logs, cache; not config.yaml), its console output and ${replies.length} D-Bus replies`);
  for (const [where, text] of places) {
    for (const secret of secrets) assert.ok(!text.includes(secret), `${where} must not contain ${secret}`);
  }
  assert.ok(statSync(configPath).isFile());
}

/** rclone's own list of password options (IsPassword in `rclone config providers`) against our rule. */
export function passwordOptionsOf(rclone: string): string[] {
  const providers = JSON.parse(execFileSync(rclone, ['config', 'providers'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })) as { Prefix: string; Options: { Name: string; IsPassword?: boolean }[] }[];
  return providers.flatMap((p) => p.Options.filter((o) => o.IsPassword === true).map((o) => `${p.Prefix}-${o.Name.replace(/_/g, '-')}`));
}

export function checkPasswordOptions(rclone: string): string[] {
  const names = passwordOptionsOf(rclone);
  assert.ok(names.includes('sftp-pass'), 'rclone lists sftp-pass as a password option');
  assert.deepEqual(names.filter((n) => !isSecretOption(n)), [], 'every password option rclone knows is a secret to us');
  return [...new Set(names)];
}
