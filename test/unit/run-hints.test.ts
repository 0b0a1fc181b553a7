// Hints that are true: each next step names a command that shows what the hint says it shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatHistory, formatJob } from '../../src/cli/format.js';
import type { JobView, RunView } from '../../src/dbus/client.js';
import { parseOutput } from '../../src/rclone/output.js';
import { classifyRun } from '../../src/run/rules/classify.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { loadLog } from '../helpers/rclone-logs.js';

const context = { operation: 'bisync' as const, dryRun: false, cancelled: false };

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

test('no text in src/ sends users to rbmctl status for pending deletes (it does not show them: rbmctl approve does)', () => {
  const offenders: string[] = [];
  for (const file of sourceFiles(join(PROJECT_ROOT, 'src'))) {
    for (const [i, line] of readFileSync(file, 'utf8').split('\n').entries()) {
      if (/rbmctl status/.test(line) && /pending|delete/i.test(line)) offenders.push(`${file}:${i + 1}: ${line.trim()}`);
    }
  }
  assert.deepEqual(offenders, []);
  const job: JobView = {
    name: 'photos', path: '/j/photos', state: 'needs-approval', paused: false, local: '/l', remote: '/r', schedule: '0 * * * *', active: true, dry_run: false,
    last_result: 'needs-approval', last_message: 'safety abort (too many deletes): nothing was deleted', last_error: 'safety abort: too many deletes',
    last_run_id: 3n, last_run_usec: 0n, last_finished_usec: 0n, next_run_usec: 0n, current_run_id: 0n,
    needs_resync: false, needs_approval: true, hash_warning: false, cpu_limit_applied: true,
  };
  assert.match(formatJob(job, 0), /rbmctl approve photos/, 'and points at the command that does');
});

for (const v of ['1.60', '1.75'] as const) {
  test(`${v}: a safety abort sends the user to rbmctl approve JOB, which lists the pending deletes`, () => {
    const log = loadLog(v, 'too-many-deletes');
    const c = classifyRun(log.exit, parseOutput(log.text), context);
    assert.equal(c.outcome, 'needs-approval');
    assert.match(c.hint, /rbmctl approve JOB\b/);
    assert.doesNotMatch(c.hint, /rbmctl status/);
  });
}

test("an unexplained failure sends the user to rclone's last lines where they are: rbmctl history JOB --json", () => {
  const c = classifyRun({ code: 2, signal: null }, parseOutput('something rclone has never said before\n'), context);
  assert.equal(c.outcome, 'failed');
  assert.match(c.hint, /rbmctl history JOB --json/);
  const run: RunView = {
    run_id: 4n, job: 'photos', result: 'failed', operation: 'bisync', trigger: 'manual', dry_run: false, started_usec: 0n, finished_usec: 1000n, exit_code: 2, signal: '',
    message: 'rclone failed (exit 2)', hint: c.hint, error: 'exit 2', files: 0n, bytes: 0n, deletes: 0, renames: 0, errors: 1, conflicts: [], hash_warnings: 0,
    tail: ['ERROR : the line that says why'],
  };
  assert.doesNotMatch(formatHistory([run], 0), /the line that says why/, 'the text table has no tail, so the hint must say --json');
});
