// The real Spawner: node:child_process with an argv array (never a shell), stdin ignored, output split into
// capped lines, `exited` resolving only after 'close' (process reaped, output drained). Never rejects.
// `nice` lowers the child's CPU priority right after the spawn.

import { spawn as nodeSpawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import type { Readable } from 'node:stream';
import type { Child, ExitStatus, OutputStream, SpawnOptions, Spawner } from '../ports.js';

/** Longest line kept; the rest of an overlong line is dropped (bounded memory). */
export const MAX_LINE_BYTES = 64 * 1024;

/** Calls `onLine` for each complete line of `stream` (capped; the rest of an overlong line is dropped). */
function splitLines(stream: Readable, name: OutputStream, onLine: (line: string, stream: OutputStream) => void): void {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', start);
      const piece = nl === -1 ? chunk.slice(start) : chunk.slice(start, nl);
      if (buffer.length < MAX_LINE_BYTES) buffer += piece.slice(0, MAX_LINE_BYTES - buffer.length);
      if (nl === -1) break;
      onLine(buffer, name);
      buffer = '';
      start = nl + 1;
    }
  });
  stream.on('end', () => {
    if (buffer !== '') onLine(buffer, name);
    buffer = '';
  });
}

/** Highest nice value (lowest priority) on Linux. */
const MAX_NICE = 19;

/**
 * Give `pid` the nice value ours + `increment` (capped at 19: raising it needs no privilege). Linux nice values are
 * per thread and setpriority(pid) changes the main thread only, so threads the child started before the call
 * (a Go rclone starts its runtime threads at once) are lowered too; threads cloned later inherit the value.
 */
export function lowerPriority(pid: number, increment: number, onError: (error: Error) => void): void {
  let target: number;
  try {
    target = Math.min(MAX_NICE, getPriority() + increment);
    setPriority(pid, target);
  } catch (e: unknown) {
    // ESRCH: it has already exited, there is nothing left to lower. (os.setPriority throws a SystemError whose
    // `code` is ERR_SYSTEM_ERROR; the errno name is in `info.code`.)
    const info = (e as { info?: { code?: unknown } }).info;
    if (info?.code !== 'ESRCH') onError(e instanceof Error ? e : new Error(String(e)));
    return;
  }
  // Twice: a thread may clone another while the first pass walks the list.
  for (let pass = 0; pass < 2; pass++) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      return; // exited, or no /proc
    }
    for (const tid of tids) {
      if (tid === String(pid)) continue;
      try {
        setPriority(Number(tid), target);
      } catch {
        // that thread has exited
      }
    }
  }
}

export function createSpawner(): Spawner {
  return {
    spawn(command: string, args: readonly string[], options: SpawnOptions = {}): Child {
      const onLine = options.onLine ?? (() => {});
      let child;
      try {
        child = nodeSpawn(command, [...args], {
          shell: false,
          stdio: ['ignore', 'pipe', 'pipe'],
          ...(options.env ? { env: options.env } : {}),
          ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
        });
      } catch (e: unknown) {
        onLine(`spawn ${command}: ${e instanceof Error ? e.message : String(e)}`, 'stderr');
        return { pid: undefined, exited: Promise.resolve({ code: 127, signal: null }), kill() {} };
      }
      const started = child;
      if (started.pid !== undefined && options.nice !== undefined && options.nice > 0) {
        lowerPriority(started.pid, options.nice, options.onNiceError ?? (() => {}));
      }
      if (started.stdout) splitLines(started.stdout, 'stdout', onLine);
      if (started.stderr) splitLines(started.stderr, 'stderr', onLine);
      const exited = new Promise<ExitStatus>((resolve) => {
        let spawnError: Error | undefined;
        started.on('error', (err: Error) => {
          spawnError = err;
          onLine(`spawn ${command}: ${err.message}`, 'stderr');
          // 'close' may not follow an error when the process never started
          if (started.pid === undefined) resolve({ code: 127, signal: null });
        });
        started.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
          resolve(spawnError && started.pid === undefined ? { code: 127, signal: null } : { code, signal });
        });
      });
      return {
        pid: started.pid,
        exited,
        kill(signal: NodeJS.Signals): void {
          if (started.exitCode === null && started.signalCode === null) started.kill(signal);
        },
      };
    },
  };
}
