// Helpers shared by the notification, hook and details-command tests: a recording logger, waiting for a file, for a
// line of the service's output, and whether a process still runs.
import { existsSync, readFileSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { LogMeta, Logger } from '../../src/ports.js';

export interface Line {
  level: string;
  message: string;
  meta: LogMeta;
}

/** A Logger that appends every line (a child's meta merged in) to `lines`, then calls `onLine`. */
export function recordingLogger(lines: Line[], base: LogMeta = {}, onLine: () => void = () => undefined): Logger {
  const at = (level: string) => (message: string, meta: LogMeta = {}): void => {
    lines.push({ level, message, meta: { ...base, ...meta } });
    onLine();
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (meta) => recordingLogger(lines, { ...base, ...meta }, onLine) };
}

/** Resolves with the text of `file` once it exists (writers create it by a rename, so it is complete). */
export async function fileAppears(file: string): Promise<string> {
  const watcher = watch(dirname(file));
  try {
    await new Promise<void>((resolve) => {
      watcher.on('change', (_type, name) => (name === null || String(name) === basename(file)) && existsSync(file) && resolve());
      if (existsSync(file)) resolve();
    });
  } finally {
    watcher.close();
  }
  return readFileSync(file, 'utf8');
}

/** Resolves once `done(output)` holds for the service's output so far, checked on each chunk it writes. */
export async function waitForOutput(daemon: { output(): string; child: { stdout: NodeJS.ReadableStream | null; stderr: NodeJS.ReadableStream | null } }, done: (out: string) => boolean): Promise<void> {
  if (done(daemon.output())) return;
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if (!done(daemon.output())) return;
      daemon.child.stdout?.off('data', check);
      daemon.child.stderr?.off('data', check);
      resolve();
    };
    daemon.child.stdout?.on('data', check);
    daemon.child.stderr?.on('data', check);
  });
}

/** PF_EXITING in /proc/<pid>/stat's flags: the process is inside exit() (its files may already be closed). */
const PF_EXITING = 0x4;

/**
 * Still running: not gone, not a zombie (left to a PID 1 that does not reap), and not already exiting. A process
 * closes its files (so its pipes reach EOF) inside exit(), a moment before it becomes a zombie: "exiting" is set
 * before that, so a check made after the runner saw EOF is exact.
 */
export function isAlive(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const flags = Number(fields[6]);
  return state !== 'Z' && state !== 'X' && (flags & PF_EXITING) === 0;
}
