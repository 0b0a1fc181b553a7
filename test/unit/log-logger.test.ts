// The winston logger: files with private modes, journal priorities, and redaction of secrets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, ERROR_LOG_NAME, MAIN_LOG_NAME } from '../../src/log/logger.js';
import { redactText, redactValue } from '../../src/log/redact.js';

test('secrets are masked in text: key=value, JSON, and user:pass@ in URLs', () => {
  assert.equal(redactText('sftp-pass=hunter2 other=1'), 'sftp-pass=*** other=1');
  assert.equal(redactText('{"token":"abc.def"}'), '{"token":"***"}');
  assert.equal(redactText('webdav https://bob:s3cret@host/dav failed'), 'webdav https://bob:***@host/dav failed');
  assert.equal(redactText('access_token: xyz'), 'access_token: ***');
  assert.deepEqual(redactValue({ pass: 'x', nested: { url: 'ftp://a:b@h' }, list: ['token=1'] }), { pass: '***', nested: { url: 'ftp://a:***@h' }, list: ['token=***'] });
});

test('the credential after an auth scheme is masked, not just the scheme word (found by the hardening suite)', () => {
  assert.equal(redactText('DEBUG : Authorization: Bearer ya29.a0Af-secret'), 'DEBUG : Authorization: *** ***');
  assert.equal(redactText('header bearer abc.def.ghi123'), 'header bearer ***');
  assert.equal(redactText('Authorization: Basic dXNlcjpwYXNz='), 'Authorization: *** ***');
  assert.equal(redactText('Basic configuration changed'), 'Basic configuration changed', 'plain words stay');
});

test('main and error logs are written with 0600 files in a 0700 dir, secrets redacted', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'rbm-log-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, 'logs');
  const logger = createLogger({ logDir: dir, console: false, journal: false, level: 'debug' });
  const job = logger.child({ job: 'docs', runId: 4 });
  job.info('synced', { files: 2 });
  job.error('failed with password=hunter2', { url: 'sftp://me:pw@h' });
  await logger.close();
  const main = readFileSync(join(dir, MAIN_LOG_NAME), 'utf8');
  const errors = readFileSync(join(dir, ERROR_LOG_NAME), 'utf8');
  assert.match(main, /INFO {2}\[docs#4\] synced \{"files":2\}/);
  assert.match(errors, /ERROR \[docs#4\] failed with password=\*\*\*/);
  assert.doesNotMatch(main + errors, /hunter2|me:pw/);
  assert.doesNotMatch(errors, /synced/, 'the error log holds errors only');
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(statSync(join(dir, MAIN_LOG_NAME)).mode & 0o777, 0o600);
});

test('under the journal, stdout lines carry <N> priorities and no timestamp', async () => {
  const written: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    if (String(chunk).startsWith('<')) written.push(String(chunk)); // node:test reports on stdout too
    return true;
  });
  try {
    const logger = createLogger({ logDir: undefined, console: false, journal: true, level: 'debug' });
    logger.error('e');
    logger.warn('w');
    logger.info('i', { job: 'docs' });
    logger.debug('d');
    await logger.close();
  } finally {
    process.stdout.write = original;
  }
  assert.deepEqual(written.map((s) => s.trim()), ['<3>e', '<4>w', '<6>[docs] i', '<7>d']);
});

test('a line logged after close is dropped, not a `write after end` crash (issue 13 case 6)', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'rbm-log-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, 'logs');
  const logger = createLogger({ logDir: dir, console: false, journal: false, level: 'debug' });
  const child = logger.child({ job: 'docs' });
  child.info('before close');
  await logger.close();
  const uncaught: unknown[] = [];
  const onError = (e: unknown): void => void uncaught.push(e);
  process.on('uncaughtException', onError);
  t.after(() => process.off('uncaughtException', onError));
  // What cpulimit's last line did in one-shot mode: a child logger written to after the files were closed.
  child.debug('cpulimit', { line: 'No process found' });
  logger.error('late error');
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.deepEqual(uncaught, []);
  await logger.close(); // closing twice is harmless
  const main = readFileSync(join(dir, MAIN_LOG_NAME), 'utf8');
  assert.match(main, /before close/);
  assert.doesNotMatch(main, /No process found|late error/);
});
