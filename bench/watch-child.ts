// One watcher in its own process, for bench/watchers.ts: `watch-child IMPL ROOT [CANDIDATES_DIR]`.
// IMPL: `ours` (src/platform/tree-watcher.ts), `fs-recursive` (node:fs watch {recursive: true}), `chokidar`,
// `parcel` (@parcel/watcher), `none` (bare Node: the floor). chokidar and @parcel/watcher are loaded from
// CANDIDATES_DIR/node_modules (installed there by hand, never into the repository).
// Prints JSON lines on stdout: {event:'loaded'} once the modules are in (the RSS baseline), {event:'ready', ms}
// (start-up: from the watch call to ready), {event:'change', paths} (relative POSIX paths), {event:'error', message}.
// Exits when stdin closes.

import { watch } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createTreeWatcher } from '../src/platform/tree-watcher.js';

type Impl = 'ours' | 'fs-recursive' | 'chokidar' | 'parcel' | 'none';

interface ChokidarLike {
  watch(path: string, options: Record<string, unknown>): { on(event: string, fn: (...args: unknown[]) => void): unknown; close(): Promise<void> };
}
interface ParcelLike {
  subscribe(dir: string, fn: (err: Error | null, events: { path: string }[]) => void): Promise<{ unsubscribe(): Promise<void> }>;
}

const [implArg, rootArg, candidates] = process.argv.slice(2);
const impl = implArg as Impl;
if (!rootArg || !['ours', 'fs-recursive', 'chokidar', 'parcel', 'none'].includes(impl)) {
  console.error('usage: watch-child ours|fs-recursive|chokidar|parcel|none ROOT [CANDIDATES_DIR]');
  process.exit(2);
}
const root: string = rootArg;

const say = (value: unknown): void => void process.stdout.write(JSON.stringify(value) + '\n');
const rel = (path: string): string => {
  const r = relative(root, path);
  return sep === '/' ? r : r.split(sep).join('/');
};
const changed = (paths: string[]): void => say({ event: 'change', paths });
const fromCandidates = (name: string): unknown => {
  if (!candidates) throw new Error(`${name} needs CANDIDATES_DIR (npm install ${name} into a scratch directory)`);
  return createRequire(join(candidates, 'package.json'))(name);
};

async function start(): Promise<() => Promise<void>> {
  switch (impl) {
    case 'none':
      say({ event: 'loaded' });
      say({ event: 'ready', ms: 0 });
      return () => Promise.resolve();
    case 'ours': {
      say({ event: 'loaded' });
      const t0 = performance.now();
      return new Promise((resolve) => {
        const w = createTreeWatcher({
          root,
          onChange: changed,
          onReady: () => {
            say({ event: 'ready', ms: performance.now() - t0 });
            resolve(() => Promise.resolve(w.close()));
          },
          onFailure: (f) => say({ event: 'error', message: `${f.kind}: ${f.message}` }),
        });
      });
    }
    case 'fs-recursive': {
      say({ event: 'loaded' });
      const t0 = performance.now();
      const w = watch(root, { recursive: true }, (_event, filename) => changed([filename === null ? '' : String(filename)]));
      w.on('error', (e: Error) => say({ event: 'error', message: e.message }));
      say({ event: 'ready', ms: performance.now() - t0 }); // its walk is synchronous (readdirSync) in Node 20
      return () => Promise.resolve(w.close());
    }
    case 'chokidar': {
      const chokidar = fromCandidates('chokidar') as ChokidarLike;
      say({ event: 'loaded' });
      const t0 = performance.now();
      const w = chokidar.watch(root, { ignoreInitial: true });
      w.on('all', (_event, path) => changed([rel(String(path))]));
      w.on('error', (e) => say({ event: 'error', message: String(e) }));
      await new Promise<void>((resolve) => w.on('ready', () => resolve()));
      say({ event: 'ready', ms: performance.now() - t0 });
      return () => w.close();
    }
    case 'parcel': {
      const parcel = fromCandidates('@parcel/watcher') as ParcelLike;
      say({ event: 'loaded' });
      const t0 = performance.now();
      const sub = await parcel.subscribe(root, (err, events) => {
        if (err) say({ event: 'error', message: err.message });
        else changed(events.map((e) => rel(e.path)));
      });
      say({ event: 'ready', ms: performance.now() - t0 });
      return () => sub.unsubscribe();
    }
  }
}

const stop = await start();
process.stdin.resume();
process.stdin.on('end', () => {
  // @parcel/watcher 2.6.0 rejects its unsubscribe after a watched folder was renamed ("Unable to remove watcher").
  stop().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`${impl}: closing failed: ${String(error)}`);
      process.exit(1);
    },
  );
});
