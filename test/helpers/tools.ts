// Locating the real programs the tests drive. Under CI=true a missing program fails the test;
// elsewhere the test is skipped with the reason, so a green CI run always means the real thing ran.
import { execFileSync } from 'node:child_process';
import type { TestContext } from 'node:test';

export const IN_CI = process.env.CI === 'true';

export function findProgram(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v "$1"', 'sh', name], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The rclone the suite runs against (scripts/test.sh sets RBM_TEST_RCLONE; falls back to PATH). */
export function testRclone(): string | undefined {
  return process.env.RBM_TEST_RCLONE || findProgram('rclone');
}

/** Returns the program's path, or skips the test (fails it under CI=true) when it is missing. */
export function requireProgram(t: TestContext, name: string, path = findProgram(name)): string | undefined {
  if (path) return path;
  const reason = `${name} is not installed (scripts/test.sh installs it)`;
  if (IN_CI) throw new Error(`CI=true and ${reason}`);
  t.skip(reason);
  return undefined;
}

export function rcloneVersion(binary: string): { major: number; minor: number; text: string } {
  const first = execFileSync(binary, ['version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
  const match = /^rclone v(\d+)\.(\d+)/.exec(first);
  if (!match) throw new Error(`cannot read the version of ${binary}: ${first}`);
  return { major: Number(match[1]), minor: Number(match[2]), text: first };
}
