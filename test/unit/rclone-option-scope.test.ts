// Where each rclone option applies (issue 13 case 5): bisync's own flags never reach the setup commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BISYNC_ONLY_FLAGS, describeOptionPlacements, optionScope, parseBisyncOwnFlags, setupCommandFlags } from '../../src/rclone/option-scope.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { makeGlobal, makeJob } from '../helpers/job.js';

const help = (version: string): string => readFileSync(join(PROJECT_ROOT, `test/fixtures/rclone/v${version}-bisync-help.txt`), 'utf8');

test('the bisync-only table is exactly what "rclone bisync --help" lists as its own flags in 1.60 and 1.75', () => {
  const own160 = parseBisyncOwnFlags(help('1.60'));
  const own175 = parseBisyncOwnFlags(help('1.75'));
  assert.ok(own160.has('check-access') && !own160.has('transfers'), 'the global section is not read');
  assert.ok(own175.has('compare') && own175.has('create-empty-src-dirs') && !own175.has('compare-dest'));
  assert.deepEqual([...BISYNC_ONLY_FLAGS].sort(), [...new Set([...own160, ...own175])].sort());
});

test('setup commands get global flags only, from global and job rclone_options', () => {
  const global = makeGlobal({ rcloneOptions: { compare: 'size,modtime,checksum', transfers: 4 }, bisyncOptions: { max_delete: 10 }, resyncOptions: { resync_mode: 'newer' } });
  const job = makeJob({ rcloneOptions: { create_empty_src_dirs: true, 'no-slow-hash': true, bwlimit: '1M', low_level_retries: 1 } });
  assert.deepEqual(setupCommandFlags(job, global), ['--transfers=4', '--bwlimit=1M', '--low-level-retries=1']);
  assert.equal(optionScope('create_empty_src_dirs'), 'bisync only');
  assert.equal(optionScope('compare_dest'), 'every rclone command');
});

test('check-config placements name the map, the key and the runs it reaches', () => {
  const config = {
    global: makeGlobal({ rcloneOptions: { compare: 'size' }, bisyncOptions: { max_delete: 10 } }),
    jobs: [makeJob({ name: 'photos', rcloneOptions: { transfers: 2 }, resyncOptions: { create_empty_src_dirs: true } })],
  };
  assert.deepEqual(describeOptionPlacements(config), [
    { map: 'rclone_options', key: 'compare', scope: 'bisync only', appliesTo: 'bisync and resync runs' },
    { map: 'bisync_options', key: 'max_delete', scope: 'every rclone command', appliesTo: 'bisync runs' },
    { map: 'sync_jobs.photos.rclone_options', key: 'transfers', scope: 'every rclone command', appliesTo: 'bisync and resync runs, setup commands (mkdir, lsf, touch)' },
    { map: 'sync_jobs.photos.resync_options', key: 'create_empty_src_dirs', scope: 'bisync only', appliesTo: 'resync runs' },
  ]);
});
