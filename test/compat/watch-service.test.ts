// Sync on change (issue 16) on whatever rclone RBM_TEST_RCLONE names: CI runs this file with Debian's rclone 1.60.
import { test } from 'node:test';
import { serviceSuite } from '../helpers/service-env.js';
import { deletesBeyondMaxDelete, download50, editNewDeleteRename, serviceFoldersInsideRoot } from '../helpers/watch-service.js';

const suite = serviceSuite();
const { skip } = suite;

test('watch on this rclone, local: an edit, a new file in a new subfolder, a delete and a rename each reach the other side', { skip }, (t) =>
  editNewDeleteRename(t, suite, 'local'));

test('watch on this rclone, sftp: a run that downloads 50 files does not loop', { skip }, (t) => download50(t, suite, 'sftp'));

test('watch on this rclone, local: deletes beyond max_delete stop the watch run for approval; changes while it waits start nothing', { skip }, (t) =>
  deletesBeyondMaxDelete(t, suite, 'local'));

test('watch on this rclone, local: a root holding the service\'s own state and config folders (a job syncing ~) does not loop', { skip }, (t) =>
  serviceFoldersInsideRoot(t, suite, 'local'));
