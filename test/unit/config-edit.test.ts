// Adding and removing jobs in the user's own file: everything but the job itself stays byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, chmodSync, readdirSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addJobToConfigText, removeJobFromConfigText, writeConfigAtomic } from '../../src/config/edit.js';
import { parseConfig } from '../../src/config/parse.js';
import { RbmError } from '../../src/errors.js';

const example = readFileSync(new URL('../../examples/config.yaml', import.meta.url), 'utf8');
const parse = (text: string) => parseConfig(text, { file: '/c/config.yaml', home: '/home/u' });
const music = { local: 'music', rclone_remote: 'box', remote: 'My Music', schedule: '0 * * * *', rclone_options: { exclude: ['*.tmp', 'a b'] } };

test('adding a job to the example keeps every existing line, comment and alignment', () => {
  const after = addJobToConfigText(example, 'music', music);
  assert.ok(after.startsWith(example), 'the new job is appended after the last job; nothing before it changes');
  assert.equal(after.slice(example.length), [
    '  music:',
    '    local: music',
    '    rclone_remote: box',
    '    remote: My Music',
    '    schedule: 0 * * * *',
    '    rclone_options:',
    '      exclude:',
    '        - "*.tmp"',
    '        - a b',
    '',
  ].join('\n'));
  const config = parse(after);
  assert.deepEqual(config.jobs.map((j) => j.name), ['documents', 'photos-backup', 'music']);
  assert.deepEqual(config.jobs[2]!.rcloneOptions, { exclude: ['*.tmp', 'a b'] });
});

test('removing a job takes its own comment lines with it and nothing else', () => {
  const after = removeJobFromConfigText(example, 'documents');
  const removed = example.split('\n').filter((line) => !after.split('\n').includes(line));
  assert.ok(removed.some((line) => line.includes('# Two-way sync of ~/Sync/documents')), 'the comment above the job goes');
  assert.ok(removed.some((line) => line.includes('too-many-deletes safety abort')), 'comment lines inside the job go');
  assert.ok(after.includes('# --- Jobs ---'), 'section comments stay');
  assert.ok(after.includes('  # Both sides local:'), "the next job's comment stays");
  assert.ok(after.includes('max_delete: 25        # abort if more than 25%'), 'alignment elsewhere is untouched');
  assert.ok(!after.includes('\n\n\n'), 'no pile of blank lines is left behind');
  assert.deepEqual(parse(after).jobs.map((j) => j.name), ['photos-backup']);
});

test('add then remove gives back the original text', () => {
  assert.equal(removeJobFromConfigText(addJobToConfigText(example, 'music', music), 'music'), example);
  const minimal = 'local_base_path: /x # base\nsync_jobs:\n  a: {local: a, rclone_remote: r, remote: a, schedule: "@daily"}\n';
  assert.equal(removeJobFromConfigText(addJobToConfigText(minimal, 'b', { local: 'b' }), 'b'), minimal);
});

test('sync_jobs missing, empty, {} or indented by 4: the job lands in the right place', () => {
  const def = { local: 'n', rclone_remote: 'r', remote: 'n', schedule: '@daily' };
  assert.equal(addJobToConfigText('local_base_path: /x', 'n', def), 'local_base_path: /x\nsync_jobs:\n  n:\n    local: n\n    rclone_remote: r\n    remote: n\n    schedule: "@daily"\n');
  assert.equal(
    addJobToConfigText('local_base_path: /x\nsync_jobs:\n# none yet\nmax_parallel_jobs: 3\n', 'n', def),
    'local_base_path: /x\nsync_jobs:\n  n:\n    local: n\n    rclone_remote: r\n    remote: n\n    schedule: "@daily"\n# none yet\nmax_parallel_jobs: 3\n',
  );
  const fromFlow = addJobToConfigText('local_base_path: /x\nsync_jobs: {}\nmax_parallel_jobs: 3\n', 'n', def);
  assert.equal(fromFlow, 'local_base_path: /x\nsync_jobs:\n  n:\n    local: n\n    rclone_remote: r\n    remote: n\n    schedule: "@daily"\nmax_parallel_jobs: 3\n');
  const four = 'local_base_path: /x\nsync_jobs:\n    a:\n        local: a\n        rclone_remote: r\n        remote: a\n        schedule: "@daily"\n        # about a\n# end\n';
  const added = addJobToConfigText(four, 'n', def);
  assert.equal(added, four.replace('# end\n', '    n:\n        local: n\n        rclone_remote: r\n        remote: n\n        schedule: "@daily"\n# end\n'));
  assert.deepEqual(parse(added).jobs.map((j) => j.name), ['a', 'n']);
});

test('a non-empty flow mapping of jobs still works (rewritten by the YAML library, comments kept)', () => {
  const text = '# head\nlocal_base_path: /x\nsync_jobs: {a: {local: a, rclone_remote: r, remote: a, schedule: "@daily"}}\n';
  const added = addJobToConfigText(text, 'b', { local: 'b', rclone_remote: 'r', remote: 'b', schedule: '@daily' });
  assert.ok(added.startsWith('# head\n'));
  assert.deepEqual(parse(added).jobs.map((j) => j.name), ['a', 'b']);
  assert.deepEqual(parse(removeJobFromConfigText(added, 'a')).jobs.map((j) => j.name), ['b']);
});

test('adding an existing job or removing a missing one is refused with the right error code', () => {
  assert.throws(() => addJobToConfigText(example, 'documents', music), (e: unknown) => e instanceof RbmError && e.code === 'JobExists');
  assert.throws(() => removeJobFromConfigText(example, 'nope'), (e: unknown) => e instanceof RbmError && e.code === 'NoSuchJob');
  assert.throws(() => addJobToConfigText('a: [', 'x', {}), (e: unknown) => e instanceof RbmError && e.code === 'InvalidConfig');
});

test('a missing job points to a command that exists; a bad name is never written into the file', async () => {
  assert.throws(() => removeJobFromConfigText(example, 'nope'), (e: unknown) => e instanceof RbmError && e.hint === 'rbmctl jobs lists the configured jobs.');
  let out = '';
  const { main } = await import('../../src/cli/main.js');
  assert.equal(await main(['--help'], { stdout: { write: (t: string) => (out += t) }, stderr: { write: () => true }, stdin: process.stdin, env: {} }), 0);
  assert.match(out, /^ {2}rbmctl jobs +List the configured jobs$/m, 'the command the hint names');
  for (const name of ['../x', 'a b', '', 'x'.repeat(65)]) {
    assert.throws(() => addJobToConfigText(example, name, music), (e: unknown) => e instanceof RbmError && e.code === 'InvalidArgs' && e.message.startsWith('name: '), JSON.stringify(name));
    assert.throws(() => removeJobFromConfigText(example, name), (e: unknown) => e instanceof RbmError && e.code === 'InvalidArgs', JSON.stringify(name));
  }
});

test('writeConfigAtomic: new files are 0600, existing files keep their mode, symlinks are followed, no temp file is left', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-edit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fresh = join(dir, 'new.yaml');
  await writeConfigAtomic(fresh, 'a: 1\n');
  assert.equal(readFileSync(fresh, 'utf8'), 'a: 1\n');
  assert.equal(statSync(fresh).mode & 0o777, 0o600);

  const existing = join(dir, 'existing.yaml');
  writeFileSync(existing, 'old\n');
  chmodSync(existing, 0o640);
  await writeConfigAtomic(existing, 'new\n');
  assert.equal(readFileSync(existing, 'utf8'), 'new\n');
  assert.equal(statSync(existing).mode & 0o777, 0o640);

  const link = join(dir, 'link.yaml');
  symlinkSync(existing, link);
  await writeConfigAtomic(link, 'via link\n');
  assert.ok(lstatSync(link).isSymbolicLink(), 'the symlink stays a symlink');
  assert.equal(readFileSync(existing, 'utf8'), 'via link\n');

  assert.deepEqual(readdirSync(dir).sort(), ['existing.yaml', 'link.yaml', 'new.yaml']);
  await assert.rejects(writeConfigAtomic(join(dir, 'missing-dir', 'c.yaml'), 'x'), /ENOENT/);
});
