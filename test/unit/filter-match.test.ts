// The watch's filter predicate (src/rclone/filter-match.ts): rclone's glob semantics, first match wins, and the
// conservative answer (not filtered out: trigger) for rules it does not model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globToRegExp, isFilteredOut, jobFilterRules, rulesFromFilterLines, runFilterSources } from '../../src/rclone/filter-match.js';
import { buildRunArgv } from '../../src/rclone/args.js';
import { mergeOptionMaps } from '../../src/rclone/flags.js';
import type { OptionMap } from '../../src/config/types.js';
import { makeGlobal, makeJob } from '../helpers/job.js';
import { CAPS_175 } from '../helpers/caps.js';

const out = (filtersFileText: string, options: OptionMap = {}) => {
  const rules = jobFilterRules({ filtersFileText, options: mergeOptionMaps(options) });
  return (rel: string): boolean => isFilteredOut(rules, rel);
};

test('* does not cross /, ** does, ? is one character', () => {
  assert.ok(globToRegExp('*.tmp')!.test('a/b/x.tmp'));
  assert.ok(!globToRegExp('/*.tmp')!.test('a/x.tmp'));
  assert.ok(globToRegExp('/*.tmp')!.test('x.tmp'));
  assert.ok(!globToRegExp('a*')!.test('ab/c'));
  assert.ok(globToRegExp('/a/**')!.test('a/b/c'));
  assert.ok(globToRegExp('file?.txt')!.test('file1.txt'));
  assert.ok(!globToRegExp('file?.txt')!.test('file/.txt'));
  assert.ok(!globToRegExp('file?.txt')!.test('file12.txt'));
});

test('classes, alternatives and escapes', () => {
  assert.ok(globToRegExp('[ab].txt')!.test('a.txt'));
  assert.ok(!globToRegExp('[ab].txt')!.test('c.txt'));
  assert.ok(globToRegExp('*.{jpg,png}')!.test('d/p.png'));
  assert.ok(!globToRegExp('*.{jpg,png}')!.test('d/p.gif'));
  assert.ok(globToRegExp('a\\*b')!.test('a*b'));
  assert.ok(!globToRegExp('a\\*b')!.test('axb'));
  assert.ok(!globToRegExp('x.y')!.test('xzy'), 'a dot is literal');
});

test('a pattern without a leading / matches the end of the path at a name boundary', () => {
  const f = out('- cache.db\n');
  assert.equal(f('cache.db'), true);
  assert.equal(f('deep/in/cache.db'), true);
  assert.equal(f('mycache.db'), false);
});

test('an excluded folder hides itself and everything below it; a file exclude leaves folders alone', () => {
  const f = out('- node_modules/\n- *.tmp\n');
  assert.equal(f('node_modules'), true);
  assert.equal(f('a/node_modules/pkg/index.js'), true);
  assert.equal(f('src/index.js'), false);
  assert.equal(f('x.tmp'), true);
  assert.equal(f('x.tmp/inside.txt'), false, 'a folder named x.tmp is not excluded by a file rule');
});

test('first match wins: an include before an exclude keeps the path', () => {
  const f = out('+ keep.log\n- *.log\n');
  assert.equal(f('keep.log'), false);
  assert.equal(f('other.log'), true);
});

test('+ *.jpg then - ** syncs only jpgs, in every folder', () => {
  const f = out('+ *.jpg\n- **\n');
  assert.equal(f('photos/a.jpg'), false);
  assert.equal(f('photos/a.txt'), true);
  assert.equal(f('a.txt'), true);
});

test('--include adds an implicit exclude of every other file, not of folders', () => {
  const f = out('', { include: '*.md' });
  assert.equal(f('docs/readme.md'), false);
  assert.equal(f('docs/readme.txt'), true);
});

test('exclude options as a list, and options before the filters file', () => {
  const f = out('+ secret.txt\n', { exclude: ['secret.txt', '/build/**'] });
  assert.equal(f('secret.txt'), true, '--exclude comes before the filters file');
  assert.equal(f('build/out/a.o'), true);
  assert.equal(f('src/build/a.o'), false, 'anchored at the root');
});

test('comments and blank lines are skipped', () => {
  assert.deepEqual(rulesFromFilterLines('# c\n; c\n\n- a\n').length, 1);
});

test('rules it does not model count as synced (trigger), from where they stand', () => {
  const regex = out('- *.bak\n- {{.*\\.tmp}}\n');
  assert.equal(regex('a.bak'), true, 'decided before the unknown rule');
  assert.equal(regex('a.tmp'), false, 'in doubt: synced');
  assert.equal(out('!\n- *.tmp\n')('a.tmp'), false);
  assert.equal(out('', { exclude_from: '/x/rules' })('a.tmp'), false);
  assert.equal(out('*.tmp\n')('a.tmp'), false, 'a line without + or -');
  assert.equal(globToRegExp('[ab'), null);
  assert.equal(globToRegExp('{a,b'), null);
});

test('no rules: nothing is filtered out; the root never is', () => {
  assert.equal(out('')('anything/at/all'), false);
  assert.equal(out('- **\n')(''), false);
});

/** The watch's predicate for a job under a global config, built as the service builds it. */
const watchOut = (job: Parameters<typeof makeJob>[0], global: Parameters<typeof makeGlobal>[0], filtersFileText?: string) => {
  const rules = jobFilterRules(runFilterSources(makeJob(job), makeGlobal(global), filtersFileText));
  return (rel: string): boolean => isFilteredOut(rules, rel);
};

test('the global rclone_options and bisync_options filter the watch as they filter the run', () => {
  const f = watchOut({}, { rcloneOptions: { exclude: ['*.tmp'] }, bisyncOptions: { exclude: 'build/' } });
  assert.equal(f('a.tmp'), false, 'the global bisync exclude replaces the global rclone one, as in the argv');
  assert.equal(f('build/x.o'), true);
  const g = watchOut({}, { rcloneOptions: { exclude: ['*.tmp', 'cache/**'] } });
  assert.equal(g('sub/a.tmp'), true);
  assert.equal(g('cache/blob'), true);
  assert.equal(g('notes.txt'), false);
  const filterFrom = watchOut({}, { rcloneOptions: { filter_from: '/etc/somewhere' } });
  assert.equal(filterFrom('a.tmp'), false, 'a --filter-from we do not read: in doubt, trigger');
});

test('a job\'s own option wins over the global one by flag name, as in the argv', () => {
  const job = { rcloneOptions: { exclude: ['*.log'] } };
  const global = { rcloneOptions: { exclude: ['*.tmp'] } };
  const f = watchOut(job, global);
  assert.equal(f('a.log'), true);
  assert.equal(f('a.tmp'), false);
  const argv = buildRunArgv({ job: makeJob(job), global: makeGlobal(global), caps: CAPS_175, operation: 'bisync', workdir: '/w', filtersFile: undefined, dryRun: false, force: false });
  assert.deepEqual(argv.filter((a) => a.startsWith('--exclude')), ['--exclude=*.log'], 'the argv the watch mirrors');
});

test('rclone\'s temporary copies (*.partial) never trigger: the argv\'s own filter, unless the user\'s options mention .partial', () => {
  const f = watchOut({}, {});
  assert.equal(f('big.iso.3f2a9c1d.partial'), true);
  assert.equal(f('sub/doc.txt.0a1b2c3d.partial'), true);
  assert.equal(f('doc.txt'), false);
  const own = watchOut({ rcloneOptions: { filter: ['+ *.partial'] } }, {});
  assert.equal(own('keep.partial'), false, 'the user\'s rules decide: the argv adds no .partial filter then');
  assert.equal(watchOut({ rcloneOptions: { include: ['*.partial', '*.txt'] } }, {})('keep.partial'), false, 'an include option naming them');
  assert.equal(watchOut({ rcloneOptions: { exclude: ['x.partial.bak'] } }, {}, '+ *.partial\n')('keep.partial'), false, 'a + line of the filters file naming them (the argv adds no filter of its own)');
});

test('review finding 8: an option that mentions .partial in passing (a backup folder, an exclude) leaves the watch ignoring rclone\'s temporary copies', () => {
  for (const options of [{ backup_dir: '/srv/old.partial-files' }, { exclude: ['notes.partial.md'] }, { filter: ['- cache/*.partial.bak'] }]) {
    const f = watchOut({ rcloneOptions: options }, {});
    assert.equal(f('big.iso.3f2a9c1d.partial'), true, `${JSON.stringify(options)}: a download's temporary copy triggers nothing`);
    assert.equal(f('doc.txt'), false);
  }
  assert.equal(watchOut({}, {}, '- old.partial.txt\n')('big.iso.3f2a9c1d.partial'), true, 'a filters file line that excludes');
});
