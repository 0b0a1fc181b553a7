import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rcloneVersion, requireProgram, testRclone } from '../helpers/tools.js';

test('the full suite runs on a modern rclone (>= 1.66)', (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone) return;
  const v = rcloneVersion(rclone);
  assert.ok(v.major > 1 || v.minor >= 66, `expected rclone >= 1.66, got ${v.text}`);
});

test('the D-Bus tools the tests drive are installed', (t) => {
  for (const program of ['dbus-daemon', 'busctl', 'gdbus']) requireProgram(t, program);
});
