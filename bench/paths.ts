// Where the bench finds the built product: everything is relative to the repository root (dist/bench/ → ../..).

import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DAEMON_JS = join(REPO_ROOT, 'dist', 'src', 'bin', 'daemon.js');
export const RBMCTL_JS = join(REPO_ROOT, 'dist', 'src', 'bin', 'rbmctl.js');
export const BENCH_DIST = join(REPO_ROOT, 'dist', 'bench');
export const MODERN_RCLONE = join(REPO_ROOT, '.cache', 'rclone-modern', 'rclone');
