// A wall clock the test sets, for the real service process (issue 17 "a window on a fake clock"): libfaketime
// (Debian's faketime package) preloaded into the service, reading its time from a file the test rewrites
// (FAKETIME_TIMESTAMP_FILE, read again on every call: FAKETIME_NO_CACHE). The monotonic clock stays real
// (FAKETIME_DONT_FAKE_MONOTONIC), so Node's timers keep real delays; rclone reads the time through the Go runtime,
// not libc, and is not affected. Specs are libfaketime's: "@2026-12-07 10:30:00" starts the clock there and lets it
// run, "2026-12-07 10:59:59" (no @) holds it still.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { findProgram, IN_CI } from './tools.js';

export const FAKETIME_PACKAGE = 'faketime';

/** `skip` for tests that need libfaketime (under CI=true a missing one throws, naming the package). */
export function fakeClockSkip(): string | false {
  if (findProgram('faketime') !== undefined && preloadPath() !== undefined) return false;
  const why = `missing: faketime (install: apt-get install ${FAKETIME_PACKAGE})`;
  if (IN_CI) throw new Error(`CI=true and ${why}`);
  return why;
}

/** The multi-threaded libfaketime, as the faketime program itself preloads it (Node runs several threads). */
function preloadPath(): string | undefined {
  const r = spawnSync('faketime', ['-m', '-f', '+0', 'printenv', 'LD_PRELOAD'], { encoding: 'utf8' });
  const path = r.status === 0 ? r.stdout.trim() : '';
  return path === '' ? undefined : path;
}

export interface FakeWallClock {
  /** The environment that puts a process on this clock (TZ=UTC: the windows are read in UTC). */
  env: Record<string, string>;
  /** Set the clock: "@YYYY-MM-DD HH:MM:SS" runs from there, without "@" it stands still there. */
  set(spec: string): void;
}

/** A fake clock starting at `spec`; its file is removed after the test. */
export function fakeWallClock(t: TestContext, spec: string): FakeWallClock {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-clock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'spec');
  // By rename: the service reads the file at any moment and must never see it half written.
  const set = (next: string): void => {
    writeFileSync(`${file}.new`, `${next}\n`);
    renameSync(`${file}.new`, file);
  };
  set(spec);
  const preload = preloadPath();
  if (preload === undefined) throw new Error('libfaketime is not installed (apt-get install faketime)');
  return {
    env: { LD_PRELOAD: preload, FAKETIME_TIMESTAMP_FILE: file, FAKETIME_NO_CACHE: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1', TZ: 'UTC' },
    set,
  };
}
