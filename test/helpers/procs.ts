// Running real programs (busctl, gdbus, rbmctl) from tests without blocking the event loop (the service under
// test may live in the same process), and following long-running ones (monitors) line by line.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], ...(options.cwd ? { cwd: options.cwd } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', (e) => resolve({ code: 127, stdout, stderr: stderr + String(e) }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    // A child that exits before reading its input (rbmctl refusing a bad name at once) closes the pipe: EPIPE on our
    // side is not the test's outcome, the exit code and output are.
    child.stdin.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') stderr += String(e);
    });
    child.stdin.end(options.input ?? '');
  });
}

export interface Follower {
  readonly lines: string[];
  /** Resolves with the first line (stdout or stderr) matching, including lines already seen. */
  waitFor(match: (line: string) => boolean, what?: string): Promise<string>;
  stop(): Promise<void>;
}

/** Start a long-running program and collect its output lines (both streams). */
export function follow(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Follower {
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const lines: string[] = [];
  const waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const onLine = (line: string): void => {
    lines.push(line);
    for (const w of [...waiters]) {
      if (w.match(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  return {
    lines,
    waitFor(match, what = 'a matching line') {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        void exited.then(() => reject(new Error(`${command} exited before printing ${what}; output:\n${lines.join('\n')}`)));
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
