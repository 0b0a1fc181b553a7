// npm's `prepare` hook. A git install (`npm install -g git+…`) gets the sources without dist/: npm runs this in the
// clone, then packs and installs the result, so dist/ must be built here. Anywhere dist/ is already built (a checkout
// after `npm run build`, `npm pack` of a built tree) this does nothing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
if (existsSync(join(root, 'dist/bundle/daemon.js'))) process.exit(0);

/** Runs npm with this script's npm (npm_execpath) when there is one, in the project directory. */
function npm(args, env = process.env) {
  const execpath = process.env.npm_execpath;
  const [command, argv] = execpath ? [process.execPath, [execpath, ...args]] : ['npm', args];
  return spawnSync(command, argv, { cwd: root, stdio: 'inherit', env }).status ?? 1;
}

const haveBuildTools = () => existsSync(join(root, 'node_modules/typescript')) && existsSync(join(root, 'node_modules/esbuild'));
if (!haveBuildTools()) {
  // `npm install -g git+…` runs this without the devDependencies (npm/cli#8440: the nested install inherits the
  // global prefix and installs nothing into the clone), so install them here, into the clone, without the global flags.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_(global|prefix|location)$/i.test(k)));
  const code = npm(['install', '--include=dev', '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', '--location=project'], env);
  if (code !== 0 || !haveBuildTools()) {
    console.error('rclone-bisync-manager: dist/ is not built and its build tools (the devDependencies) could not be '
      + 'installed: run `npm install` (without --omit=dev), then `npm run build`.');
    process.exit(1);
  }
  // --ignore-scripts skipped esbuild's own check of its platform binary; it finds the binary without it.
}
process.exit(npm(['run', '--silent', 'build']));
