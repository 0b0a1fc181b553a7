import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rcloneVersion, requireProgram, testRclone } from '../helpers/tools.js';

test('the compatibility subset runs on the distribution rclone', (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone) return;
  const v = rcloneVersion(rclone);
  assert.equal(v.major, 1);
  assert.ok(v.minor >= 58, `bisync needs rclone >= 1.58, got ${v.text}`);
});
