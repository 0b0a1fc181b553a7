// Issue 12, cases 5 and 7, on Debian's rclone 1.60 (RBM_TEST_RCLONE in the compat run): the scenarios of
// test/integration/side-check.test.ts (1.75). A missing drive is a check that waits, never a resync or a delete.
import { test } from 'node:test';
import { case5RcloneCheckAccess, case5UnmountedDrive, case7EmptiedRoot, case7NestedMount, sftpServer } from '../helpers/side-check-scenarios.js';
import { requireProgram, testRclone } from '../helpers/tools.js';

test('side check, local↔local: unmounted or emptied local side waits and heals', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone) return;
  await t.test('case 5: check_access, the drive is not mounted (stray file in the mount point), the remote has an edit', (t) => case5UnmountedDrive(t, rclone, 'local'));
  await t.test('case 5: rclone fails the check-access test itself (a nested RCLONE_TEST is gone): waits, no resync', (t) => case5RcloneCheckAccess(t, rclone, 'local'));
  for (const checkAccess of [false, true]) {
    for (const residue of [false, true]) {
      const what = `${residue ? 'only residue (lost+found, .Trash-1000, .directory)' : 'an empty root'}, ${checkAccess ? 'with' : 'without'} check_access`;
      await t.test(`case 7: ${what}`, (t) => case7EmptiedRoot(t, rclone, 'local', { checkAccess, residue }));
    }
    await t.test(`case 7: a drive mounted inside the tree is not mounted, ${checkAccess ? 'with' : 'without'} check_access`, (t) => case7NestedMount(t, rclone, 'local', { checkAccess }));
  }
});

test('side check, local↔sftp on 127.0.0.1: unmounted or emptied local side waits and heals', async (t) => {
  const rclone = requireProgram(t, 'rclone', testRclone());
  if (!rclone) return;
  const server = await sftpServer(t, rclone);
  await t.test('case 5: check_access, the drive is not mounted (stray file in the mount point), the remote has an edit', (t) => case5UnmountedDrive(t, rclone, 'sftp', server));
  await t.test('case 5: rclone fails the check-access test itself (a nested RCLONE_TEST is gone): waits, no resync', (t) => case5RcloneCheckAccess(t, rclone, 'sftp', server));
  for (const checkAccess of [false, true]) {
    await t.test(`case 7: only residue, ${checkAccess ? 'with' : 'without'} check_access`, (t) => case7EmptiedRoot(t, rclone, 'sftp', { checkAccess, residue: true }, server));
    await t.test(`case 7: a drive mounted inside the tree is not mounted, ${checkAccess ? 'with' : 'without'} check_access`, (t) => case7NestedMount(t, rclone, 'sftp', { checkAccess }, server));
  }
});
