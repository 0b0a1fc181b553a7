// Issue 12.8: where a job cannot detect same-size edits within the remote's modtime precision, the note that
// check-config and status show, from what is known without running rclone (the version, the cached hash types).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatJob, formatStatus } from '../../src/cli/format.js';
import { main } from '../../src/cli/main.js';
import { buildCapabilities } from '../../src/rclone/caps.js';
import type { RcloneCapabilities } from '../../src/config/types.js';
import type { JobView } from '../../src/dbus/client.js';
import dbus from 'dbus-next';
import { jobStatusToDict, readJobDefinition } from '../../src/dbus/variants.js';
import { jobChecksumNote, remoteHashesCachePath } from '../../src/run/compare-mode.js';
import { initialJobState } from '../../src/run/rules/job-state.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { CAPS_160, CAPS_175 } from '../helpers/caps.js';

const { Variant } = dbus;
import { makeGlobal, makeJob } from '../helpers/job.js';

test('the note: 1.60 and a remote without a common hash say so; supported, unknown or opted out say nothing', (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'rbm-note-'));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  const global = makeGlobal();
  const remote = makeJob({ name: 'r', rcloneRemote: 'box', path2: 'box:docs' });
  const crypt = makeJob({ name: 'c', rcloneRemote: 'secret', path2: 'secret:docs' });
  const local = makeJob({ name: 'l', rcloneRemote: '', path2: '/mnt/backup/docs' });

  assert.equal(jobChecksumNote(stateDir, remote, global, CAPS_175), undefined, 'not detected yet: nothing known to report');
  writeFileSync(remoteHashesCachePath(stateDir), JSON.stringify({ format: 1, records: [
    { rclone: CAPS_175.version, path2: 'box:docs', hashes: ['md5', 'sha1'] },
    { rclone: CAPS_175.version, path2: 'secret:docs', hashes: [] },
  ] }));
  assert.equal(jobChecksumNote(stateDir, remote, global, CAPS_175), undefined);
  assert.equal(jobChecksumNote(stateDir, local, global, CAPS_175), undefined);
  assert.match(jobChecksumNote(stateDir, crypt, global, CAPS_175) ?? '', /not detected: the remote has no hash type in common with the local side/);
  assert.equal(jobChecksumNote(stateDir, makeJob({ ...crypt, checksumCompare: false }), global, CAPS_175), undefined, 'the user opted out');
  assert.equal(jobChecksumNote(stateDir, makeJob({ ...crypt, bisyncOptions: { compare: 'size' } }), global, CAPS_175), undefined, 'the user chose the comparison');
  for (const job of [remote, local, crypt]) {
    assert.match(jobChecksumNote(stateDir, job, global, CAPS_160) ?? '', /not detected: rclone 1\.60\.1 cannot compare checksums \(needs rclone >= 1\.66\)/);
  }
});

test('status: checksum_note in the job dict, and rbmctl status / rbmctl status JOB print it', () => {
  const note = "same-size edits within the remote's modtime precision are not detected: rclone 1.60.1 cannot compare checksums (needs rclone >= 1.66)";
  const status = { name: 'docs', config: makeJob({ name: 'docs' }), activity: 'idle' as const, paused: false, state: initialJobState(), nextRunMs: 0, currentRunId: 0, progress: undefined, cpuLimitNotApplied: false, health: 'ok' as const, healthReason: '', snoozedUntilMs: 0, waiting: '' };
  assert.deepEqual(jobStatusToDict({ ...status, checksumNote: note }).checksum_note?.value, note);
  assert.equal(jobStatusToDict(status).checksum_note?.value, '');

  const view: JobView = {
    name: 'docs', path: '/io/github/rbmanager/RcloneBisyncManager1/job/docs', state: 'idle', paused: false, local: '/home/u/docs', remote: 'box:docs',
    schedule: '@hourly', active: true, dry_run: false, last_result: 'success', last_message: '', last_error: '', last_run_id: 1n, last_run_usec: 0n,
    last_finished_usec: 0n, next_run_usec: 0n, current_run_id: 0n, needs_resync: false, needs_approval: false, hash_warning: false, cpu_limit_applied: true,
    checksum_note: note,
  };
  const all = formatStatus({ state: 'running', version: '1', config_path: '/c.yaml', config_error: '', rclone_version: '1.60.1', running_jobs: [], queued_jobs: [], jobs: [view] }, 0);
  assert.ok(all.split('\n').includes(`docs: ${note}`), all);
  assert.ok(formatJob(view, 0).split('\n').some((l) => l === `note:        ${note}`), formatJob(view, 0));
  assert.ok(!formatJob({ ...view, checksum_note: '' }, 0).includes('note:'));
});

test('check-config: a valid file on 1.60 gets one note per job; on 1.75 none until a remote is known to lack hashes', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'rbm-note-home-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const fixture = (path: string): string => readFileSync(join(PROJECT_ROOT, 'test/fixtures', path), 'utf8');
  const capsOf = (v: string): RcloneCapabilities => buildCapabilities('rclone', fixture(`rclone/v${v}-version.txt`), fixture(`rclone/v${v}-bisync-help.txt`), fixture(`rclone/v${v}-help-flags.txt`));
  const check = async (caps: RcloneCapabilities, json = false): Promise<{ code: number; stdout: string }> => {
    let stdout = '';
    const args = [...(json ? ['--json'] : []), 'check-config', '--config', join(PROJECT_ROOT, 'examples/config.yaml')];
    const code = await main(args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: () => true }, stdin: process.stdin, env: { HOME: home } }, {
      probeRclone: () => Promise.resolve(caps),
      connect: () => Promise.reject(new Error('check-config must not need the service')),
    });
    return { code, stdout };
  };
  const old = await check(capsOf('1.60'));
  assert.equal(old.code, 0, old.stdout);
  const notes = old.stdout.split('\n').filter((l) => l.startsWith('note: '));
  assert.deepEqual(notes.map((l) => /^note: sync_jobs\.([^:]+): /.exec(l)?.[1]), ['documents', 'photos-backup']);
  for (const l of notes) assert.match(l, /same-size edits within the remote's modtime precision are not detected: rclone 1\.60\.1 cannot compare checksums \(needs rclone >= 1\.66\)$/);
  const json = JSON.parse((await check(capsOf('1.60'), true)).stdout) as { notes: { job: string; note: string }[] };
  assert.deepEqual(json.notes.map((n) => n.job), ['documents', 'photos-backup']);
  const modern = await check(capsOf('1.75'));
  assert.equal(modern.code, 0);
  assert.deepEqual(modern.stdout.split('\n').filter((l) => l.startsWith('note: ')), []);
});

test('D-Bus AddJob takes checksum_compare as a boolean, like the config file', () => {
  assert.deepEqual(readJobDefinition({ checksum_compare: new Variant('b', false) }, 'definition'), { checksum_compare: false });
  assert.throws(() => readJobDefinition({ checksum_compare: new Variant('s', 'no') }, 'definition'), /definition\.checksum_compare/);
});
