// No resync drops a version (issue 12 case 4, case 6 in part), on Debian's rclone 1.60 (the compat run sets
// RBM_TEST_RCLONE to it): the same cases as test/integration/engine-resync-guard.test.ts, local↔local and local↔sftp.
import { test } from 'node:test';
import { resyncGuardCases } from '../helpers/resync-guard-cases.js';
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
