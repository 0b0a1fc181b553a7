// Child processes the bench starts: tracked by pid so that cleanup ends exactly those, and exit waits with a deadline.

import { spawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';

const live = new Set<ChildProcess>();

/** spawn() with the child remembered for stopAll(). argv array, never a shell. */
export function startProcess(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(command, [...args], options);
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves with the exit code (or signal name) once the child has exited; rejects after `timeoutMs`. */
export function waitExit(child: ChildProcess, timeoutMs: number): Promise<number | string> {
  if (hasExited(child)) return Promise.resolve(child.exitCode ?? child.signalCode ?? -1);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`process ${child.pid ?? '?'} did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal ?? -1);
    });
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; always resolves once the child is gone. */
export async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (hasExited(child)) return;
  child.kill('SIGTERM');
  try {
    await waitExit(child, graceMs);
  } catch {
    child.kill('SIGKILL');
    await waitExit(child, 5_000).catch(() => undefined);
  }
}

/** Stops every child this process started and that is still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((child) => stopProcess(child, 5_000)));
}

/** Runs a command to completion; resolves with its wall time in ms, exit code and captured stdout. */
export function runTimed(command: string, args: readonly string[], options: SpawnOptions & { capture?: boolean } = {}): Promise<{ ms: number; code: number | null; stdout: string; stderr: string }> {
  const { capture = false, ...spawnOptions } = options;
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = startProcess(command, args, { ...spawnOptions, stdio: ['ignore', capture ? 'pipe' : 'ignore', capture ? 'pipe' : 'ignore'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr.length < 65_536 ? (stderr += chunk) : undefined));
    child.once('error', reject);
    child.once('close', (code) => resolve({ ms: performance.now() - t0, code, stdout, stderr }));
  });
}
