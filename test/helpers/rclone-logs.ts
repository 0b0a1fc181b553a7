// Loads the real rclone logs captured by test/fixtures/rclone-logs/capture.sh.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ExitStatus } from '../../src/ports.js';

export type LogVersion = '1.60' | '1.75';

export interface CapturedLog {
  exit: ExitStatus;
  /** Output lines without the header comment. */
  lines: string[];
  text: string;
}

export function fixturePath(version: LogVersion, scenario: string): string {
  return fileURLToPath(new URL(`../fixtures/rclone-logs/${version}/${scenario}.log`, import.meta.url));
}

export function loadLog(version: LogVersion, scenario: string): CapturedLog {
  const text = readFileSync(fixturePath(version, scenario), 'utf8');
  const [header = '', ...rest] = text.split('\n');
  const m = /exit (\d+)$/.exec(header);
  if (!m) throw new Error(`fixture ${version}/${scenario} has no exit header`);
  const code = Number(m[1]);
  // Exit codes above 128 are how the shell reports a signal.
  const exit: ExitStatus = code > 128 ? { code: null, signal: code === 143 ? 'SIGTERM' : code === 137 ? 'SIGKILL' : 'SIGINT' } : { code, signal: null };
  const lines = rest.filter((line) => line !== '');
  return { exit, lines, text: rest.join('\n') };
}
