// Where the bench finds the built product: everything is relative to the repository root (dist/bench/ → ../..).

import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The executables as installed: bin/ wrappers around the esbuild bundles in dist/bundle/. */
export const DAEMON_JS = join(REPO_ROOT, 'bin', 'rclone-bisync-manager.js');
export const RBMCTL_JS = join(REPO_ROOT, 'bin', 'rbmctl.js');
export const BENCH_DIST = join(REPO_ROOT, 'dist', 'bench');
export const MODERN_RCLONE = join(REPO_ROOT, '.cache', 'rclone-modern', 'rclone');
