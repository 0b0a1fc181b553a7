// No resync drops a version (issue 12 case 4, case 6 in part), on the rclone the suite runs (1.75 in CI):
// local↔local and local↔sftp on 127.0.0.1. test/compat/run-resync-guard.test.ts runs the same cases on 1.60.
import { test } from 'node:test';
import { mountTmpfs, requireMount } from '../helpers/hardening.js';
import { fullDiskHintCase, resyncGuardCases } from '../helpers/resync-guard-cases.js';
import { requireProgram, testRclone } from '../helpers/tools.js';

test('local↔local: every resync keeps both versions of a file that differs', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone) return;
  await resyncGuardCases(t, rclone, 'local');
});

test('local↔sftp: every resync keeps both versions of a file that differs', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone) return;
  await resyncGuardCases(t, rclone, 'sftp');
});

test('a full local disk, then the hint followed as written: no leftover replaces a good remote file', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone || !requireMount(t)) return;
  await fullDiskHintCase(t, rclone, mountTmpfs(t, '2m'));
});
