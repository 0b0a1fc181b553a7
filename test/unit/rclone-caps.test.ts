import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  FLAG_MIN_VERSION,
  buildCapabilities,
  compareVersions,
  flagAddedIn,
  flagSupport,
  parseHelpFlags,
  parseRcloneVersion,
  supportsFlag,
} from '../../src/rclone/caps.js';

// Real outputs captured from Debian's rclone 1.60.1 and rclone 1.75.2 (home directory paths replaced).
const fixture = (name: string): string => readFileSync(new URL(`../fixtures/rclone/${name}`, import.meta.url), 'utf8');
const old = buildCapabilities('rclone', fixture('v1.60-version.txt'), fixture('v1.60-bisync-help.txt'), fixture('v1.60-help-flags.txt'));
const modern = buildCapabilities('/opt/rclone', fixture('v1.75-version.txt'), fixture('v1.75-bisync-help.txt'), fixture('v1.75-help-flags.txt'));

test('versions are read from real "rclone version" output, dropping -DEV', () => {
  assert.deepEqual(parseRcloneVersion(fixture('v1.60-version.txt')), { version: '1.60.1', major: 1, minor: 60, patch: 1 });
  assert.deepEqual(parseRcloneVersion(fixture('v1.75-version.txt')), { version: '1.75.2', major: 1, minor: 75, patch: 2 });
  assert.equal(parseRcloneVersion('rclone v1.66.0-beta.7712.abc\n- os/version: x').version, '1.66.0');
  assert.equal(parseRcloneVersion('rclone v1.58\n').version, '1.58.0');
  assert.throws(() => parseRcloneVersion('bash: rclone: command not found'), /not the output of "rclone version"/);
});

test('versions compare numerically, not as text', () => {
  assert.ok(compareVersions('1.60.1', '1.58') > 0);
  assert.ok(compareVersions('1.9.0', '1.10.0') < 0);
  assert.equal(compareVersions('1.66', '1.66.0'), 0);
});

test('1.60 bisync --help lists exactly its 10 bisync flags (and not --help)', () => {
  const flags = parseHelpFlags(fixture('v1.60-bisync-help.txt'));
  assert.deepEqual([...flags].sort(), [
    'check-access', 'check-filename', 'check-sync', 'filters-file', 'force', 'localtime', 'no-cleanup', 'remove-empty-dirs', 'resync', 'workdir',
  ]);
});

test('1.75 bisync --help lists the new bisync flags and the sync/filter flags', () => {
  const flags = parseHelpFlags(fixture('v1.75-bisync-help.txt'));
  for (const flag of ['conflict-resolve', 'conflict-loser', 'conflict-suffix', 'recover', 'resilient', 'max-lock', 'resync-mode', 'compare', 'backup-dir1', 'exclude', 'max-delete', 'dry-run']) {
    assert.ok(flags.has(flag), flag);
  }
  // Global flags such as --bwlimit are not in bisync's own help on either version: help flags supplies them.
  assert.equal(flags.has('bwlimit'), false);
});

test('global flags come from "rclone help flags" on both versions, without the help command\'s own flags', () => {
  for (const caps of [old, modern]) {
    for (const flag of ['bwlimit', 'max-delete', 'exclude', 'filter', 'transfers', 'checkers', 'dry-run', 'verbose', 'log-level', 'stats', 'sftp-host', 'fast-list']) {
      assert.ok(caps.flags.has(flag), `${caps.version} should accept --${flag}`);
    }
    assert.equal(caps.flags.has('help'), false);
    assert.equal(caps.flags.has('group'), false);
  }
  assert.equal(old.flags.has('conflict-resolve'), false);
  assert.equal(old.flags.has('color'), false);
  assert.equal(modern.flags.has('color'), true);
});

test('flagSupport: the version table wins, then the help text decides', () => {
  assert.deepEqual(flagSupport(old, 'conflict_resolve'), { ok: false, reason: 'too-old', addedIn: '1.66' });
  assert.deepEqual(flagSupport(old, '--create-empty-src-dirs'), { ok: false, reason: 'too-old', addedIn: '1.64' });
  assert.deepEqual(flagSupport(old, 'color'), { ok: false, reason: 'too-old', addedIn: '1.61' });
  assert.deepEqual(flagSupport(old, 'no_such_flag'), { ok: false, reason: 'unknown' });
  assert.deepEqual(flagSupport(old, 'max_delete'), { ok: true });
  assert.deepEqual(flagSupport(modern, 'conflict-resolve'), { ok: true });
  assert.equal(supportsFlag(modern, 'bwlimit'), true);
  assert.equal(supportsFlag(old, 'bwlimit'), true);
  assert.equal(supportsFlag(modern, 'localtime'), true);
});

test('flagAddedIn knows the table and ignores dashes/underscores', () => {
  assert.equal(flagAddedIn('--conflict-loser'), '1.66');
  assert.equal(flagAddedIn('ignore_listing_checksum'), '1.64');
  assert.equal(flagAddedIn('bwlimit'), undefined);
  // Every version in the table is well formed.
  for (const version of Object.values(FLAG_MIN_VERSION)) assert.match(version, /^1\.\d+$/);
});

test('capabilities carry the binary as configured and the parsed version', () => {
  assert.equal(modern.binary, '/opt/rclone');
  assert.equal(modern.version, '1.75.2');
  assert.equal(old.minor, 60);
  assert.ok(modern.flags.size > 300 && old.flags.size > 300);
});
