// Secret rclone options (issue 13, case 9): which options are secrets, how they leave the argv for rclone's
// environment, how their values are masked (logs, records), and that a config cannot give one as a list.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/parse.js';
import { isSecretOption, maskSecretValues, secretEnvName, secretOptionValues, splitSecretOptions } from '../../src/rclone/secret-options.js';
import { buildRunArgv, buildRunEnv, rcloneOnlyEnv, rcloneOnlyFlags } from '../../src/rclone/args.js';
import { createJobRunner } from '../../src/run/runner.js';
import { ConfigError, isRbmError } from '../../src/errors.js';
import { maskingLogger, redactSecrets, redactText } from '../../src/log/redact.js';
import { CAPS_160, CAPS_175 } from '../helpers/caps.js';
import { ManualClock, RecordingLogger, ScriptedSpawner } from '../helpers/fake-spawner.js';
import { makeGlobal, makeJob } from '../helpers/job.js';

const SFTP_PASS = 'obscured-sftp-pass-Xq7';
const B2_KEY = 'K005b2-application-key-9z';
const S3_SECRET = 's3-secret-access-key-Wm4';

test('the issue\'s options and their kin are secrets; files, commands, URLs, ids and booleans about them are not', () => {
  const secrets = [
    'sftp_pass', 'sftp-pass', 'b2_key', 's3_secret_access_key', 's3-session-token', 'sftp-key-file-pass', 'sftp-key-pem', 'crypt-password',
    'crypt-password2', 'webdav-bearer-token', 'drive-token', 'drive-client-secret', 'drive-service-account-credentials', 'swift-key',
    's3-sse-customer-key', 's3-sse-customer-key-base64', 'sugarsync-authorization', 'fichier-api-key', 'azureblob-sas-url', 'SFTP_PASS',
  ];
  const notSecrets = [
    'sftp-key-file', 'sftp-pubkey-file', 'password-command', 'drive-token-url', 'drive-auth-url', 's3-access-key-id', 's3-sse-kms-key-id',
    'webdav-bearer-token-command', 's3-shared-credentials-file', 'sftp-key-use-agent', 'bwlimit', 'transfers', 'max-delete', 'crypt-pass-bad-blocks',
    'sftp-host-keys', 'filefabric-token-expiry',
  ];
  for (const name of secrets) assert.equal(isSecretOption(name), true, `${name} is a secret`);
  for (const name of notSecrets) assert.equal(isSecretOption(name), false, `${name} is not a secret`);
});

test('rclone reads a flag from RCLONE_ + its name upper-cased with dashes as underscores', () => {
  assert.equal(secretEnvName('sftp_pass'), 'RCLONE_SFTP_PASS');
  assert.equal(secretEnvName('s3-secret-access-key'), 'RCLONE_S3_SECRET_ACCESS_KEY');
});

test('secret values leave the flags for the environment; booleans, empty strings and other options stay flags', () => {
  const split = splitSecretOptions([
    { sftp_pass: 'global-pass', bwlimit: '1M', b2_key: B2_KEY },
    { sftp_pass: SFTP_PASS, b2_key: false, sftp_ask_password: true, crypt_password: '', s3_secret_access_key: 12345678 },
  ]);
  assert.deepEqual(split.env, { RCLONE_SFTP_PASS: SFTP_PASS, RCLONE_S3_SECRET_ACCESS_KEY: '12345678' });
  assert.deepEqual(split.flags, ['--bwlimit=1M', '--sftp-ask-password', '--crypt-password=']);
});

test('the bisync argv never holds a secret; the run environment does, per operation, in option precedence', () => {
  const global = makeGlobal({ rcloneOptions: { sftp_pass: 'global-pass-value', transfers: 4 }, resyncOptions: { s3_secret_access_key: S3_SECRET } });
  const job = makeJob({ rcloneOptions: { sftp_pass: SFTP_PASS }, bisyncOptions: { b2_key: B2_KEY } });
  for (const caps of [CAPS_175, CAPS_160]) {
    for (const operation of ['bisync', 'resync'] as const) {
      const argv = buildRunArgv({ job, global, caps, operation, workdir: '/state/w', filtersFile: undefined, dryRun: false, force: false });
      const text = argv.join('\n');
      for (const secret of [SFTP_PASS, B2_KEY, S3_SECRET, 'global-pass-value']) assert.ok(!text.includes(secret), `${caps.version} ${operation}: ${secret} not on the argv`);
      assert.ok(!argv.some((a) => /^--(sftp-pass|b2-key|s3-secret-access-key)/.test(a)), 'no secret flag at all');
      assert.ok(argv.includes('--transfers=4'), 'other options stay on the argv');
    }
  }
  assert.deepEqual(buildRunEnv({ job, global, operation: 'bisync' }), { RCLONE_SFTP_PASS: SFTP_PASS, RCLONE_B2_KEY: B2_KEY });
  assert.deepEqual(buildRunEnv({ job, global, operation: 'resync' }), { RCLONE_SFTP_PASS: SFTP_PASS, RCLONE_S3_SECRET_ACCESS_KEY: S3_SECRET });
  assert.deepEqual(rcloneOnlyFlags(job, global), ['--transfers=4']);
  assert.deepEqual(rcloneOnlyEnv(job, global), { RCLONE_SFTP_PASS: SFTP_PASS });
  assert.deepEqual(secretOptionValues([global.rcloneOptions, job.rcloneOptions]).sort(), ['global-pass-value', SFTP_PASS].sort());
});

test('a secret given as a list is refused, by the config and by the argv builder, without quoting it', () => {
  const text = `local_base_path: /home/u/Sync\nsync_jobs:\n  docs:\n    local: docs\n    rclone_remote: box\n    remote: Documents\n    schedule: "*/15 * * * *"\n    rclone_options:\n      sftp_pass: ["${SFTP_PASS}", "other-secret-value"]\n`;
  assert.throws(
    () => parseConfig(text, { file: 'config.yaml', home: '/home/u' }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      const message = e.message + e.issues.map((i) => i.message).join('\n');
      assert.match(message, /sftp_pass" holds a secret and takes one value/);
      assert.ok(!message.includes(SFTP_PASS) && !message.includes('other-secret-value'), 'the message does not quote the secret');
      return true;
    },
  );
  const job = makeJob({ rcloneOptions: { b2_key: [B2_KEY] } });
  assert.throws(
    () => buildRunArgv({ job, global: makeGlobal(), caps: CAPS_175, operation: 'bisync', workdir: '/w', filtersFile: undefined, dryRun: false, force: false }),
    (e: unknown) => isRbmError(e) && e.code === 'InvalidConfig' && !e.message.includes(B2_KEY),
  );
});

test('log redaction masks the value after a secret option name in every spelling rclone and we use', () => {
  const lines = [
    [`starting rclone --b2-key=${B2_KEY} --bwlimit=1M`, `starting rclone --b2-key=*** --bwlimit=1M`],
    [`DEBUG : Setting --b2-key "${B2_KEY}" from environment variable RCLONE_B2_KEY="${B2_KEY}"`, `DEBUG : Setting --b2-key "***" from environment variable RCLONE_B2_KEY="***"`],
    [`DEBUG : Setting default for b2-key="${B2_KEY}" from environment variable RCLONE_B2_KEY`, `DEBUG : Setting default for b2-key="***" from environment variable RCLONE_B2_KEY`],
    [`RCLONE_S3_SECRET_ACCESS_KEY=${S3_SECRET}`, `RCLONE_S3_SECRET_ACCESS_KEY=***`],
    ['--sftp-key-file=/home/u/.ssh/id_ed25519 --s3-access-key-id=AKIAEXAMPLE', '--sftp-key-file=/home/u/.ssh/id_ed25519 --s3-access-key-id=AKIAEXAMPLE'],
    ['the key "docs" is unknown', 'the key "docs" is unknown'],
    [`RCLONE_CONFIG=/x/rclone.conf RCLONE_SFTP_PASS=${SFTP_PASS}`, 'RCLONE_CONFIG=/x/rclone.conf RCLONE_SFTP_PASS=***'],
    [`note=--b2-key=${B2_KEY}`, 'note=--b2-key=***'],
    ['DEBUG : Authorization: Bearer abcdef123456', 'DEBUG : Authorization: *** ***'],
    // A 64 KiB line (the spawner's cap) of one dash-separated token, then a secret: redacted whole, in linear time.
    [`${'x-y-'.repeat(16_000)} password=${SFTP_PASS}`, `${'x-y-'.repeat(16_000)} password=***`],
  ];
  for (const [input, expected] of lines) assert.equal(redactText(input!), expected);
  // Known values go wherever they appear, with or without a name before them.
  assert.equal(redactSecrets(`couldn't connect: ${SFTP_PASS} rejected`, [SFTP_PASS]), "couldn't connect: *** rejected");
  assert.equal(maskSecretValues('abc and abcdef', ['abc', 'abcdef'], '#'), 'abc and #', 'values under 4 characters are not masked by value');
});

test('the masking logger masks known values in messages, metadata and children before any transport sees them', () => {
  const recorded = new RecordingLogger();
  const log = maskingLogger(recorded, [SFTP_PASS, B2_KEY]);
  log.child({ job: 'docs', note: `k=${B2_KEY}` }).warn(`rclone said ${SFTP_PASS}`, { argv: ['x', `y${B2_KEY}`], nested: { error: new Error(`bad ${SFTP_PASS}`) } });
  const text = JSON.stringify(recorded.entries, (_k, v: unknown) => (v instanceof Error ? v.message : v));
  assert.ok(!text.includes(SFTP_PASS) && !text.includes(B2_KEY), text);
  assert.equal(recorded.entries[0]?.message, 'rclone said ***');
  assert.equal(recorded.entries[0]?.meta.job, 'docs');
});

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-secrets-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the engine: every rclone process (seeding, resync, follow-up bisync) gets the secrets in its environment only; echoed secrets are masked', async (t) => {
  const dir = tempDir(t);
  const job = makeJob({ local: join(dir, 'local'), path2: 'box:Documents', rcloneOptions: { sftp_pass: SFTP_PASS, b2_key: B2_KEY }, resyncOptions: { s3_secret_access_key: S3_SECRET } });
  const global = makeGlobal();
  // A scripted rclone that echoes what it got, as rclone -vv does.
  const echo = `{"level":"debug","msg":"Setting --b2-key \\"${B2_KEY}\\" from environment; pass ${SFTP_PASS}; s3 ${S3_SECRET}","source":"x"}`;
  const spawner = new ScriptedSpawner(() => ({ lines: [echo], exit: { code: 0, signal: null } }));
  const logger = new RecordingLogger();
  const runner = createJobRunner({ spawner, clock: new ManualClock(), logger, stateDir: join(dir, 'state'), probeCaps: () => Promise.resolve(CAPS_175), env: { PATH: '/usr/bin', RCLONE_SFTP_PASS: 'from-the-service-env' } });
  const record = await runner.run(job, { ...global, redirectRcloneLogOutput: true }, {}, 1);
  assert.equal(record.operation, 'resync');
  const kinds = spawner.calls.map((c) => c.args[0]);
  assert.ok(kinds.includes('mkdir') && kinds.filter((k) => k === 'bisync').length === 2, `seeding, resync and follow-up ran: ${kinds.join(' ')}`);
  for (const call of spawner.calls) {
    const argv = call.args.join('\n');
    for (const secret of [SFTP_PASS, B2_KEY, S3_SECRET]) assert.ok(!argv.includes(secret), `${call.args[0]}: ${secret} not on the argv`);
    assert.equal(call.env?.RCLONE_SFTP_PASS, SFTP_PASS, `${call.args[0]}: the job's secret wins over the service's environment`);
    assert.equal(call.env?.RCLONE_B2_KEY, B2_KEY);
    assert.equal(call.env?.PATH, '/usr/bin', 'the rest of the environment is kept');
  }
  const [resync, follow] = spawner.bisyncCalls();
  assert.equal(resync?.env?.RCLONE_S3_SECRET_ACCESS_KEY, S3_SECRET, 'resync_options reach the resync');
  assert.equal(follow?.env?.RCLONE_S3_SECRET_ACCESS_KEY, undefined, 'and not the bisync after it');
  const places = [JSON.stringify(record), JSON.stringify(runner.history(job.name, 10)), JSON.stringify(runner.readState(job.name)), JSON.stringify(logger.entries)];
  assert.ok(logger.entries.some((e) => e.meta.source === 'rclone' && e.message.includes('Setting --b2-key')), 'the echoed line was logged (masked)');
  assert.ok(logger.entries.some((e) => e.message === 'starting rclone' && JSON.stringify(e.meta.secretEnv) === '["RCLONE_SFTP_PASS","RCLONE_B2_KEY","RCLONE_S3_SECRET_ACCESS_KEY"]'), 'debug names the variables, not the values');
  for (const text of places) for (const secret of [SFTP_PASS, B2_KEY, S3_SECRET]) assert.ok(!text.includes(secret), `${secret} masked in ${text.slice(0, 80)}`);
});
