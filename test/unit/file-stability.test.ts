// Issue 12.6, the watcher side: a file still being written is never reported; a rename into place is reported after
// the short settle time; a file written in place only once it stayed the same for the quiet period. The gate runs on
// a fake clock with files described by hand; the last test drives the real watcher with a real slow writer.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createStabilityGate, type FileSnapshot } from '../../src/platform/file-stability.js';
import { createFileWatcher, fileSnapshot } from '../../src/platform/watcher.js';
import { nullLogger } from '../../src/ports.js';
import { FakeClock } from '../helpers/fake-clock.js';

const QUIET = 2000;
const SETTLE = 300;

/** A gate over files whose snapshot the test sets; `reports` collects what the gate let through. */
function setup(): { clock: FakeClock; files: Map<string, FileSnapshot>; reports: string[][]; gate: ReturnType<typeof createStabilityGate> } {
  const clock = new FakeClock();
  const files = new Map<string, FileSnapshot>();
  const reports: string[][] = [];
  const gate = createStabilityGate({ clock, snapshot: (p) => files.get(p), quietMs: QUIET, settleMs: SETTLE, onReady: (paths) => reports.push(paths.sort()) });
  return { clock, files, reports, gate };
}

function snap(ino: number, content: string, mtimeMs: number): FileSnapshot {
  return { ino, size: content.length, mtimeMs, sha256: content };
}

test('an in-place write is reported only after the quiet period with no change, once', () => {
  const s = setup();
  s.files.set('/c', snap(1, 'jobs: a', 1));
  s.gate.touched('/c', 'change');
  s.clock.advance(QUIET - 1);
  assert.deepEqual(s.reports, []);
  s.clock.advance(1);
  assert.deepEqual(s.reports, [['/c']]);
  s.clock.advance(10 * QUIET);
  assert.deepEqual(s.reports, [['/c']], 'reported once');
});

test('a slow writer: each chunk restarts the quiet period; nothing is reported until the file stops changing', () => {
  const s = setup();
  let text = '';
  for (const [i, chunk] of ['sync_jobs:\n', '  a:\n    remote: /r/pa', 'rent/child\n'].entries()) {
    text += chunk;
    s.files.set('/c', snap(1, text, i));
    s.gate.touched('/c', 'change');
    s.clock.advance(QUIET - 1);
    assert.deepEqual(s.reports, [], `not reported while chunk ${i + 1} may be followed by more`);
  }
  s.clock.advance(1);
  assert.deepEqual(s.reports, [['/c']]);
});

test('a change whose event has not arrived yet is still caught: the content is compared, not only the events', () => {
  const s = setup();
  s.files.set('/c', snap(1, 'a', 1));
  s.gate.touched('/c', 'change');
  s.clock.advance(QUIET / 2);
  s.files.set('/c', snap(1, 'ab', 1)); // same mtime (coarse clock), other content, no event yet
  s.clock.advance(QUIET / 2);
  assert.deepEqual(s.reports, [], 'changed since the last look: not stable');
  s.clock.advance(QUIET);
  assert.deepEqual(s.reports, [['/c']]);
});

test('a rename into place is reported after the settle time; writes after it need the quiet period', () => {
  const s = setup();
  s.files.set('/c', snap(2, 'complete', 1));
  s.gate.touched('/c', 'rename');
  s.clock.advance(SETTLE);
  assert.deepEqual(s.reports, [['/c']]);
  // A file created then written in place: the create is a rename event, the writes are changes.
  s.files.set('/c', snap(3, '', 2));
  s.gate.touched('/c', 'rename');
  s.files.set('/c', snap(3, 'half', 3));
  s.gate.touched('/c', 'change');
  s.clock.advance(SETTLE);
  assert.equal(s.reports.length, 1);
  s.clock.advance(QUIET);
  assert.deepEqual(s.reports, [['/c'], ['/c']]);
});

test('several files touched together are reported together, when the last of them is ready', () => {
  const s = setup();
  s.files.set('/c', snap(1, 'c', 1));
  s.files.set('/f', snap(2, 'f', 1));
  s.gate.touched('/c', 'rename');
  s.gate.touched('/f', 'change');
  s.clock.advance(SETTLE);
  assert.deepEqual(s.reports, [], 'the filters file is still in its quiet period');
  s.clock.advance(QUIET);
  assert.deepEqual(s.reports, [['/c', '/f']]);
  s.gate.close();
  s.gate.touched('/c', 'rename');
  s.clock.advance(QUIET);
  assert.equal(s.reports.length, 1, 'nothing after close');
});

test('fileSnapshot sees content, size and identity; a missing file is undefined', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-snap-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'c.yaml');
  assert.equal(fileSnapshot(path), undefined);
  writeFileSync(path, 'a: 1\n');
  const one = fileSnapshot(path)!;
  assert.equal(one.size, 5);
  writeFileSync(join(dir, 'tmp'), 'a: 1\n');
  renameSync(join(dir, 'tmp'), path);
  const two = fileSnapshot(path)!;
  assert.equal(two.sha256, one.sha256);
  assert.notEqual(two.ino, one.ino, 'a rename into place is another file');
});

test('the real watcher and a real slow writer (pauses shorter than the quiet period): one report, of the complete file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-slow-'));
  const path = join(dir, 'config.yaml');
  writeFileSync(path, 'old\n');
  const seen: string[] = [];
  // The watcher's timers run on a fake clock: the writer's pauses are clock steps, not sleeps, and each chunk is
  // written only once the watcher has handled the previous one's event (it re-arms its timer for a full quiet period).
  const clock = new FakeClock();
  const watcher = createFileWatcher({ logger: nullLogger, clock, debounceMs: SETTLE, quietMs: QUIET, onChange: () => seen.push(readFileSync(path, 'utf8')) });
  t.after(() => {
    watcher.close();
    rmSync(dir, { recursive: true, force: true });
  });
  watcher.setFiles([path]);
  writeFileSync(path, ''); // truncate in place, as a slow script does
  await timerArmedFor(clock, QUIET);
  const chunks = ['sync_jobs:\n', '  docs:\n    remote: /srv/remote/pa', 'rent/docs\n', '    schedule: "0 * * * *"\n'];
  for (const chunk of chunks) {
    clock.advance(QUIET - 1);
    assert.deepEqual(seen, [], 'nothing is reported while the file is being written');
    appendFileSync(path, chunk);
    await timerArmedFor(clock, QUIET);
  }
  clock.advance(QUIET - 1);
  assert.deepEqual(seen, []);
  clock.advance(1);
  assert.deepEqual(seen, [chunks.join('')], 'the complete file, once');
  clock.advance(10 * QUIET);
  assert.equal(seen.length, 1);
});

/** Resolves once the watcher's next timer is due in exactly `ms` (it handled a file event and started waiting anew). */
async function timerArmedFor(clock: FakeClock, ms: number): Promise<void> {
  while (clock.nextTimerIn() !== ms) await new Promise<void>((resolve) => setImmediate(resolve));
}
