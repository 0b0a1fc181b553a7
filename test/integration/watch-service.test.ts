// Sync on change (issue 16) on the real service with rclone 1.75: local↔local and local↔sftp on 127.0.0.1. The 1.60
// twin of the core case is test/compat/watch-service.test.ts; the watch-limit fallback is in watch-limit.test.ts.
import { test } from 'node:test';
import { serviceSuite } from '../helpers/service-env.js';
import { burstOf200, burstOf200InPlace, deletesBeyondMaxDelete, download50, editNewDeleteRename, excludedPath, globalExclude, serviceFoldersInsideRoot } from '../helpers/watch-service.js';

const suite = serviceSuite();
const { skip } = suite;

for (const kind of ['local', 'sftp'] as const) {
  test(`watch, ${kind}: an edit, a new file in a new subfolder, a delete and a rename each reach the other side with no user action`, { skip }, (t) =>
    editNewDeleteRename(t, suite, kind));
  test(`watch, ${kind}: a run that downloads 50 files does not loop`, { skip }, (t) => download50(t, suite, kind));
}

test('watch, local: 200 files arriving at once give one run', { skip }, (t) => burstOf200(t, suite, 'local'));

test('watch, local: 200 files written in place, one after the other, give one run (two at most) and all reach the other side', { skip }, (t) =>
  burstOf200InPlace(t, suite, 'local'));

test('watch, local: a path the filters exclude does not trigger the job', { skip }, (t) => excludedPath(t, suite, 'local'));

test('watch, local: a global exclude does not trigger the job; a reload that adds one stops a path from triggering', { skip }, (t) =>
  globalExclude(t, suite, 'local'));

test('watch, local: deletes beyond max_delete stop the watch run for approval; changes while it waits start nothing', { skip }, (t) =>
  deletesBeyondMaxDelete(t, suite, 'local'));

test('watch, local: a root holding the service\'s own state and config folders (a job syncing ~) does not loop', { skip }, (t) =>
  serviceFoldersInsideRoot(t, suite, 'local'));
