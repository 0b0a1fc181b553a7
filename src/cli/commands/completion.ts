// rbmctl completion [bash|zsh|fish]: print the shipped completion script (completions/ in the package), for users
// who install by hand; scripts/install-user.sh puts the same files into the shells' standard directories.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Argv } from 'yargs';
import type { Ctx } from '../context.js';
import { exitCodeFor } from '../../errors.js';

export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

const SCRIPT_FILES: Record<CompletionShell, string> = { bash: 'rbmctl.bash', zsh: '_rbmctl', fish: 'rbmctl.fish' };

export function completionBuilder<T>(y: Argv<T>) {
  return y.positional('shell', { choices: COMPLETION_SHELLS, default: 'bash' as const, describe: 'The shell to print the script for' });
}

/** The package's completions/ directory: found from this module, which is in src/ or bundled into dist/. */
function completionsDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth++) {
    if (existsSync(join(dir, 'completions', 'rbmctl.bash'))) return join(dir, 'completions');
    dir = dirname(dir);
  }
  return undefined;
}

export async function completionCommand(ctx: Ctx, shell: CompletionShell): Promise<number> {
  const dir = completionsDir();
  if (dir === undefined) {
    ctx.err('rbmctl: the completion scripts are not installed next to rbmctl (expected a completions/ directory in the package)');
    return exitCodeFor('Internal');
  }
  ctx.io.stdout.write(await readFile(join(dir, SCRIPT_FILES[shell]), 'utf8'));
  return 0;
}
