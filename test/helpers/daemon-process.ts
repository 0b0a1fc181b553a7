// Runs the real service process (src/bin/daemon.ts through tsx) in a private environment: its own HOME and XDG
// dirs, a NOTIFY_SOCKET and a bus address. Output is kept (bounded) for assertions and failure messages.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/version.js';

export interface DaemonProcess {
  child: ChildProcess;
  pid: number;
  /** stdout + stderr so far. */
  output(): string;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after killAfterMs if it is still running (cleanup for failing tests). */
  stop(killAfterMs?: number): Promise<void>;
}

export interface DaemonOptions {
  args: string[];
  /** Extra node/V8 flags, before the script. */
  nodeArgs?: string[];
  env: Record<string, string | undefined>;
}

export function startDaemon(options: DaemonOptions): DaemonProcess {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', join(PROJECT_ROOT, 'src', 'bin', 'daemon.ts'), ...options.args], {
    cwd: PROJECT_ROOT,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (chunk: Buffer): void => {
    out += chunk.toString('utf8');
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return {
    child,
    pid: child.pid ?? -1,
    output: () => out,
    exited,
    async stop(killAfterMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
