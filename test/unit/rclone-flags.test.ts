import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildOptionFlags, optionFlags } from '../../src/rclone/flags.js';

test('option values become attached flags: true/null bare, false omitted, lists repeated', () => {
  assert.deepEqual(optionFlags('max_delete', 5), ['--max-delete=5']);
  assert.deepEqual(optionFlags('verbose', true), ['--verbose']);
  assert.deepEqual(optionFlags('fast-list', null), ['--fast-list']);
  assert.deepEqual(optionFlags('checksum', false), []);
  assert.deepEqual(optionFlags('exclude', ['*.tmp', 'a b']), ['--exclude=*.tmp', '--exclude=a b']);
});

test('values that look like shell or flags stay inside their own argument', () => {
  for (const hostile of ['a b', '"q"', "'q'", 'x;rm -rf /', '$(reboot)', '--dry-run', '-v']) {
    assert.deepEqual(optionFlags('exclude', hostile), [`--exclude=${hostile}`]);
  }
});

test('later maps win, by flag name, and false removes an earlier flag', () => {
  const flags = buildOptionFlags(
    { max_delete: 10, verbose: true, bwlimit: '1M' },
    { 'max-delete': 20 },
    { verbose: false },
    { bwlimit: '2M' },
  );
  assert.deepEqual(flags, ['--max-delete=20', '--bwlimit=2M']);
});
