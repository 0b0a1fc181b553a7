// npm's `prepare` hook. A git install (`npm install -g git+…`) gets the sources without dist/: npm installs the
// devDependencies, runs this, then packs and installs the result, so dist/ must be built here. Anywhere dist/ is
// already built (a checkout after `npm run build`, `npm pack` of a built tree) this does nothing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
if (existsSync(join(root, 'dist/bundle/daemon.js'))) process.exit(0);
if (!existsSync(join(root, 'node_modules/typescript')) || !existsSync(join(root, 'node_modules/esbuild'))) {
  console.error('rclone-bisync-manager: dist/ is not built and the build tools (devDependencies) are not installed: '
    + 'run `npm install` (without --omit=dev), then `npm run build`.');
  process.exit(1);
}
const npm = process.env.npm_execpath;
const build = npm
  ? spawnSync(process.execPath, [npm, 'run', '--silent', 'build'], { cwd: root, stdio: 'inherit' })
  : spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
process.exit(build.status ?? 1);
