// The file watcher against real directories: in-place writes, save-by-rename, other files ignored, a missing directory.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createFileWatcher, type FileWatcher } from '../../src/platform/watcher.js';
import { nullLogger } from '../../src/ports.js';

function setup(t: TestContext): { dir: string; changes: string[][]; watcher: FileWatcher; next(): Promise<string[]> } {
  const dir = mkdtempSync(join(tmpdir(), 'rbm-watch-'));
  const changes: string[][] = [];
  let wake: (() => void) | undefined;
  const watcher = createFileWatcher({
    logger: nullLogger,
    debounceMs: 50,
    rearmDelayMs: 20,
    onChange: (paths) => {
      changes.push(paths.sort());
      wake?.();
    },
  });
  t.after(() => {
    watcher.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    changes,
    watcher,
    next: () =>
      new Promise<string[]>((resolve) => {
        const seen = changes.length;
        wake = () => {
          if (changes.length > seen) resolve(changes[seen]!);
        };
      }),
  };
}

test('an in-place write and a save-by-rename are both reported, debounced into one change each', async (t) => {
  const s = setup(t);
  const config = join(s.dir, 'config.yaml');
  writeFileSync(config, 'a: 1\n');
  s.watcher.setFiles([config]);
  let next = s.next();
  writeFileSync(config, 'a: 2\n');
  writeFileSync(config, 'a: 3\n');
  assert.deepEqual(await next, [config]);
  next = s.next();
  writeFileSync(join(s.dir, '.config.yaml.swp'), 'x');
  writeFileSync(join(s.dir, 'config.yaml.tmp'), 'a: 4\n');
  renameSync(join(s.dir, 'config.yaml.tmp'), config);
  assert.deepEqual(await next, [config]);
  assert.equal(s.changes.length, 2);
});

test('files in other directories are watched too, and unrelated files are ignored', async (t) => {
  const s = setup(t);
  mkdirSync(join(s.dir, 'filters'));
  const config = join(s.dir, 'config.yaml');
  const filters = join(s.dir, 'filters', 'rules.txt');
  s.watcher.setFiles([config, filters]);
  const next = s.next();
  writeFileSync(join(s.dir, 'filters', 'other.txt'), 'x');
  writeFileSync(filters, '- *.tmp\n');
  assert.deepEqual(await next, [filters]);
});

test('a file that does not exist yet is reported when it is created', async (t) => {
  const s = setup(t);
  const config = join(s.dir, 'config.yaml');
  s.watcher.setFiles([config]);
  const next = s.next();
  writeFileSync(config, 'a: 1\n');
  assert.deepEqual(await next, [config]);
});

test('a missing directory is re-armed once it appears', async (t) => {
  const s = setup(t);
  const config = join(s.dir, 'later', 'config.yaml');
  s.watcher.setFiles([config]);
  const next = s.next();
  mkdirSync(join(s.dir, 'later'));
  writeFileSync(config, 'a: 1\n');
  assert.deepEqual(await next, [config]);
});
