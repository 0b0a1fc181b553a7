// The manual pages: man/ is what scripts/generate-man.ts writes (the one source), man and groff render every page
// without a single warning, and rbmctl(1) documents every long option rbmctl's own --help lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT, VERSION } from '../../src/version.js';
import { main } from '../../src/cli/main.js';
import { PAGES, renderPage } from '../../scripts/generate-man.js';
import { run } from '../helpers/procs.js';
import { IN_CI, findProgram } from '../helpers/tools.js';

const missing = ['man', 'groff'].filter((p) => !findProgram(p));
if (missing.length > 0 && IN_CI) throw new Error(`CI=true and ${missing.join(', ')} missing (scripts/test.sh installs man-db and groff-base)`);
const skip = missing.length > 0 ? `${missing.join(', ')} not installed` : false;

const pageFile = (file: string) => join(PROJECT_ROOT, 'man', file);

/** Everything man and groff say on stderr while rendering `file` with every warning enabled. */
async function renderWarnings(file: string): Promise<string[]> {
  const env = { ...process.env, MANWIDTH: '80', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', MANROFFSEQ: '', MANPAGER: 'cat', PAGER: 'cat' };
  const viaMan = await run('man', ['--warnings=all', '-l', file], { env });
  assert.equal(viaMan.code, 0, viaMan.stderr);
  assert.match(viaMan.stdout, /^NAME$/m, `man -l ${file} rendered no NAME section`);
  const viaGroff = await run('groff', ['-ww', '-man', '-z', file], { env });
  assert.equal(viaGroff.code, 0, viaGroff.stderr);
  return [viaMan.stderr, viaGroff.stderr].join('').split('\n').filter((l) => l !== '');
}

test('man/ holds exactly what scripts/generate-man.ts writes (npm run man)', () => {
  assert.deepEqual(PAGES.map((p) => p.file).sort(), ['rbmctl.1', 'rclone-bisync-manager.1', 'rclone-bisync-manager.yaml.5']);
  for (const page of PAGES) assert.equal(readFileSync(pageFile(page.file), 'utf8'), renderPage(page, VERSION), `man/${page.file} is stale: run npm run man`);
});

test('man -l and groff render every page without a warning', { skip }, async () => {
  // The check itself can fail: a page with an unknown macro, a missing font and an unbreakable line warns.
  const dir = mkdtempSync(join(tmpdir(), 'rbm-man-'));
  try {
    const bad = join(dir, 'bad.1');
    writeFileSync(bad, `.TH BAD 1\n.SH NAME\nbad \\- a broken page\n.BOGUS\n\\fQx\\fR ${'y'.repeat(120)}\n`);
    const warnings = await renderWarnings(bad);
    assert.ok(warnings.some((w) => /macro 'BOGUS' not defined/.test(w)), warnings.join('\n'));
    assert.ok(warnings.some((w) => /can't break line/.test(w)), warnings.join('\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const page of PAGES) assert.deepEqual(await renderWarnings(pageFile(page.file)), [], page.file);
});

/** The long options `rbmctl [COMMAND] --help` lists (main() in this process). */
async function helpOptions(args: string[]): Promise<string[]> {
  let stdout = '';
  const code = await main([...args, '--help'], { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: () => true }, stdin: process.stdin, env: {} });
  assert.equal(code, 0);
  return [...stdout.slice(stdout.indexOf('Options:')).matchAll(/^ +(?:-\w, )?(--[a-z-]+)/gm)].map((m) => m[1]!);
}

test('rbmctl(1) documents every command and every long option of rbmctl --help', async () => {
  const text = readFileSync(pageFile('rbmctl.1'), 'utf8').replace(/\\-/g, '-').replace(/\\f[BIR]/g, '');
  let top = '';
  await main(['--help'], { stdout: { write: (t: string) => (top += t) }, stderr: { write: () => true }, stdin: process.stdin, env: {} });
  const commands = [...top.matchAll(/^ {2}rbmctl ([a-z-]+)/gm)].map((m) => m[1]!);
  assert.ok(commands.length >= 15, top);
  for (const command of commands) {
    assert.match(text, new RegExp(`^${command}\\b`, 'm'), `rbmctl(1) does not describe ${command}`);
    for (const option of await helpOptions([command])) assert.ok(text.includes(option), `rbmctl(1) does not mention ${command} ${option}`);
  }
});
