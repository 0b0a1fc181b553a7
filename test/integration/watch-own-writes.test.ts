// Sync on change with the real engine on rclone 1.75 (RBM_TEST_RCLONE): a run that downloads 50 files does not
// retrigger itself; a user edit during a run gets exactly one follow-up (test/helpers/watch-own-writes.ts).
import { test } from 'node:test';
import { requireProgram, testRclone } from '../helpers/tools.js';
import { downloadDoesNotLoop, userEditDuringRunGetsOneFollowUp } from '../helpers/watch-own-writes.js';

test('a run that downloads 50 files does not loop', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (rclone) await downloadDoesNotLoop(t, rclone);
});

test('a user edit during a run gets one follow-up run, which uploads it and stops', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (rclone) await userEditDuringRunGetsOneFollowUp(t, rclone);
});

test('local↔sftp: a run that downloads 50 files does not loop', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (rclone) await downloadDoesNotLoop(t, rclone, 'sftp');
});

test('local↔sftp: a user edit during a run gets one follow-up run, which uploads it and stops', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (rclone) await userEditDuringRunGetsOneFollowUp(t, rclone, 'sftp');
});
