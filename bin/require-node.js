// Stops with a sentence, before the bundles load, when this Node.js is older than package.json's engines.node
// (npm only warns about engines, and Debian 12's own nodejs is 18). Plain ES2017 so any Node can parse it.
import { readFileSync } from 'node:fs';

const EX_UNAVAILABLE = 69;

export function requireNode(program) {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const wanted = /(\d+)\.(\d+)/.exec(pkg.engines.node);
  const have = process.versions.node.split('.').map(Number);
  const [major, minor] = [Number(wanted[1]), Number(wanted[2])];
  if (have[0] > major || (have[0] === major && have[1] >= minor)) return;
  process.stderr.write(`${program}: needs Node.js ${major}.${minor} or later; ${process.execPath} is ${process.versions.node}.\n`
    + 'Install Node.js 20 or later and put it first on PATH, or point RBM_NODE at it '
    + '(for the service: systemctl --user edit rclone-bisync-manager, [Service] Environment=RBM_NODE=/path/to/node).\n');
  process.exit(EX_UNAVAILABLE);
}
