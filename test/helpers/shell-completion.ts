// Drives the real shells' completion non-interactively: bash (bash-completion loaded, the function called with
// COMP_WORDS/COMP_CWORD set), zsh (an interactive zsh under zpty, with compadd wrapped to record the matches) and
// fish (complete -C). Each returns the candidates offered for a command line that ends where TAB is pressed.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/version.js';
import { run } from './procs.js';

export type Shell = 'bash' | 'zsh' | 'fish';
export const SHELLS: readonly Shell[] = ['bash', 'zsh', 'fish'];

const FIXTURES = join(PROJECT_ROOT, 'test/fixtures/completion');
export const BASH_COMPLETION = '/usr/share/bash-completion/bash_completion';

export interface ShellSetup {
  env: NodeJS.ProcessEnv;
  /** Scratch directory for the zsh capture file. */
  dir: string;
  /** How each shell finds the rbmctl completion: a file to source (bash, fish) or a directory for $fpath (zsh). */
  bashScript?: string;
  zshDir?: string;
  fishScript?: string;
}

function checked(what: string, result: Awaited<ReturnType<typeof run>>): string {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

/** `line` is split on spaces as the shell would; a trailing space means a new, empty word. */
async function bashComplete(line: string, setup: ShellSetup): Promise<string[]> {
  const words = line.split(' ');
  // Without a script, bash-completion loads rbmctl's from its standard directories, as on a terminal.
  const load = setup.bashScript ? 'source "$RBM_SCRIPT"' : '__load_completion rbmctl || exit 3';
  const script = `source ${BASH_COMPLETION}; ${load}
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$RBM_LINE"; COMP_POINT=\${#COMP_LINE}
_rbmctl rbmctl "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const out = checked('bash', await run('bash', ['--norc', '--noprofile', '-c', script, 'bash', ...words], { env: { ...setup.env, RBM_SCRIPT: setup.bashScript ?? '', RBM_LINE: line } }));
  return lines(out);
}

async function zshComplete(line: string, setup: ShellSetup): Promise<string[]> {
  const capture = join(setup.dir, 'zsh-capture');
  rmSync(capture, { force: true });
  const env = { ...setup.env, RBM_COMPDIR: setup.zshDir ?? '', RBM_CAPTURE: capture, RBM_HARNESS: join(FIXTURES, 'harness.zsh') };
  checked('zsh', await run('zsh', ['-f', join(FIXTURES, 'driver.zsh'), line], { env }));
  let text = '';
  try {
    text = readFileSync(capture, 'utf8');
  } catch {
    // Nothing offered: the capture file was never written.
  }
  return [...new Set(lines(text))];
}

async function fishComplete(line: string, setup: ShellSetup): Promise<string[]> {
  const load = setup.fishScript ? 'source $RBM_SCRIPT; ' : '';
  const out = checked('fish', await run('fish', ['-c', `${load}complete -C $RBM_LINE`], { env: { ...setup.env, RBM_SCRIPT: setup.fishScript ?? '', RBM_LINE: line } }));
  // fish prints "candidate<TAB>description".
  return lines(out).map((l) => l.split('\t')[0]!);
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

export function complete(shell: Shell, line: string, setup: ShellSetup): Promise<string[]> {
  if (shell === 'bash') return bashComplete(line, setup);
  if (shell === 'zsh') return zshComplete(line, setup);
  return fishComplete(line, setup);
}
